"""The ``Note`` a question to an expert (or an answer about it) is, as sent and as read back.

A question is a direct message: a ``Note`` addressed to the expert alone (``to`` names them,
nothing is public, a ``Mention`` tags them so that Mastodon shows it as a private mention),
carrying ``questionSubject`` and ``questionMessage`` (the text as written) under our JSON-LD
context. An answer is the same kind of ``Note`` addressed to the other participant,
``inReplyTo`` the message it answers, with ``expertQuestion`` (the question's id) and
``questionMessage``. ``content`` says all of it in readable HTML for servers that know none of
our terms; an answer from such a server (a plain reply from Mastodon) is read from its
``content``. Documented in docs/federation.md, "Questions to experts".
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from fedi.errors import ValidationError
from fedi.federation.vocab import AS2_CONTEXT, ids_of, is_public
from fedi.services.direct_messages import (
    NAMESPACE,
    mention_html,
    paragraphs_html,
    plain_text_of,
    recipients_of,
)

__all__ = [
    "MAX_MESSAGE",
    "MAX_SUBJECT",
    "QUESTION_CONTEXT",
    "QuestionNote",
    "question_note",
    "read_question_note",
]

MAX_SUBJECT = 200
MAX_MESSAGE = 5000

QUESTION_CONTEXT: dict[str, Any] = {
    "tn": NAMESPACE,
    "expertQuestion": {"@id": "tn:expertQuestion", "@type": "@id"},
    "questionSubject": "tn:questionSubject",
    "questionMessage": "tn:questionMessage",
}


@dataclass(frozen=True, slots=True)
class QuestionNote:
    """A received question or answer, read and checked; ``subject`` is ``None`` for an
    answer."""

    uri: str
    author: str
    in_reply_to: str | None
    recipients: tuple[str, ...]
    subject: str | None
    message: str


def question_note(
    *,
    object_id: str,
    author_uri: str,
    recipient_uri: str,
    recipient_handle: str,
    message: str,
    published: str,
    subject: str | None = None,
    question_uri: str | None = None,
    in_reply_to: str | None = None,
) -> dict[str, Any]:
    """The ``Note`` with its ``@context``: a question when ``subject`` is given, else an answer
    in the conversation of ``question_uri``, ``in_reply_to`` the message it answers."""
    mention = mention_html(recipient_uri, recipient_handle)
    if subject is not None:
        title = html.escape(subject)
        head = f"<p>{mention} Question for you as an expert: <strong>{title}</strong></p>"
    else:
        head = f"<p>{mention}</p>"
    note: dict[str, Any] = {
        "@context": [AS2_CONTEXT, dict(QUESTION_CONTEXT)],
        "id": object_id,
        "type": "Note",
        "attributedTo": author_uri,
        "to": [recipient_uri],
        "cc": [],
        "content": head + paragraphs_html(message),
        "questionMessage": message,
        "tag": [{"type": "Mention", "href": recipient_uri, "name": recipient_handle}],
        "published": published,
    }
    if subject is not None:
        note["questionSubject"] = subject
    else:
        note["expertQuestion"] = question_uri
        note["inReplyTo"] = in_reply_to
    return note


def _bounded(value: Any, field: str, limit: int) -> str:
    if not isinstance(value, str):
        raise ValidationError("must be text", field=field)
    text = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise ValidationError("must not be empty", field=field)
    if len(text) > limit:
        raise ValidationError(f"is longer than {limit} characters", field=field)
    return text


def read_question_note(document: dict[str, Any]) -> QuestionNote:
    """The question or answer ``document`` is; a :class:`ValidationError` when it is malformed
    or public. A ``Note`` without our terms is read as an answer from its ``content``."""
    uri, reply = document.get("id"), document.get("inReplyTo")
    if not isinstance(uri, str) or not uri:
        raise ValidationError("a message has an id", field="id")
    if reply is not None and not isinstance(reply, str):
        raise ValidationError("must be the id of the message answered", field="inReplyTo")
    if is_public(document):
        raise ValidationError("a question or its answer is never public", field="to")
    authors = list(ids_of(document.get("attributedTo")))
    if len(authors) != 1:
        raise ValidationError("a message has one author", field="attributedTo")
    subject = document.get("questionSubject")
    if subject is not None:
        subject = _bounded(subject, "questionSubject", MAX_SUBJECT)
    elif reply is None:
        raise ValidationError("an answer is inReplyTo the message it answers", field="inReplyTo")
    written = document.get("questionMessage")
    if written is None:
        content = document.get("content")
        written = plain_text_of(content) if isinstance(content, str) else None
    message = _bounded(written, "questionMessage", MAX_MESSAGE)
    return QuestionNote(
        uri=uri,
        author=authors[0],
        in_reply_to=reply,
        recipients=recipients_of(document),
        subject=subject,
        message=message,
    )
