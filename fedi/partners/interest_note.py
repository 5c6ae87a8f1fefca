"""The ``Note`` an expression of interest (or an answer to one) is, as sent and as read back.

An expression of interest is a direct message: a ``Note`` addressed to the offer's owner alone
(``to`` names them, nothing is public, a ``Mention`` tags them so that Mastodon shows it as a
private mention), ``inReplyTo`` the offer. An answer is the same kind of ``Note`` addressed to
the person interested, ``inReplyTo`` the message it answers. Both carry ``interestIn`` (the
offer) and ``interestMessage`` (the text as written) under our JSON-LD context; an expression
of interest also carries the sender's ``organisation`` (name, ``organisationType``,
``country``). ``content`` says all of it in readable HTML for servers that know none of our
terms. No e-mail address is ever part of it. Documented in docs/federation.md, "Interest".
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from fedi.errors import ValidationError
from fedi.federation.vocab import AS2_CONTEXT, ids_of, is_public
from fedi.services.direct_messages import NAMESPACE, mention_html, paragraphs_html, recipients_of
from fedi.vocabulary import vocabulary

__all__ = [
    "INTEREST_CONTEXT",
    "MAX_MESSAGE",
    "InterestNote",
    "Organisation",
    "interest_note",
    "read_interest_note",
]

MAX_MESSAGE = 5000
MAX_ORGANISATION_NAME = 255

INTEREST_CONTEXT: dict[str, Any] = {
    "tn": NAMESPACE,
    "interestIn": {"@id": "tn:interestIn", "@type": "@id"},
    "interestMessage": "tn:interestMessage",
    "organisation": "tn:organisation",
    "organisationType": "tn:organisationType",
    "country": "tn:country",
}


@dataclass(frozen=True, slots=True)
class Organisation:
    """Who the sender works for: a name, and codes of the vocabularies (either may be absent)."""

    name: str
    type: str | None
    country: str | None


@dataclass(frozen=True, slots=True)
class InterestNote:
    """A received interest ``Note``, read and checked."""

    uri: str
    author: str
    offer: str
    in_reply_to: str
    recipients: tuple[str, ...]
    message: str
    organisation: Organisation | None


def _facts_html(organisation: Organisation, locale: str) -> str:
    parts = [html.escape(organisation.name)] if organisation.name else []
    if organisation.type:
        parts.append(html.escape(vocabulary("organisation-types").label(organisation.type, locale)))
    if organisation.country:
        parts.append(html.escape(vocabulary("countries").label(organisation.country, locale)))
    return " · ".join(parts)


def interest_note(
    *,
    object_id: str,
    author_uri: str,
    recipient_uri: str,
    recipient_handle: str,
    offer_uri: str,
    offer_title: str,
    in_reply_to: str,
    message: str,
    organisation: Organisation | None,
    published: str,
) -> dict[str, Any]:
    """The ``Note`` with its ``@context``: an expression of interest when ``organisation`` is
    given, else an answer (``in_reply_to`` is then the message answered)."""
    mention = mention_html(recipient_uri, recipient_handle)
    title = html.escape(offer_title)
    link = f'<a href="{html.escape(offer_uri)}">{title}</a>'
    if organisation is not None:
        head = f"<p>{mention} Expression of interest in your partner offer {link}</p>"
        facts = _facts_html(organisation, "en")
        if facts:
            head += f"<p>From: {facts}</p>"
    else:
        head = f"<p>{mention} Answer about the partner offer {link}</p>"
    note: dict[str, Any] = {
        "@context": [AS2_CONTEXT, dict(INTEREST_CONTEXT)],
        "id": object_id,
        "type": "Note",
        "attributedTo": author_uri,
        "to": [recipient_uri],
        "cc": [],
        "inReplyTo": in_reply_to,
        "interestIn": offer_uri,
        "content": head + paragraphs_html(message),
        "interestMessage": message,
        "tag": [{"type": "Mention", "href": recipient_uri, "name": recipient_handle}],
        "published": published,
    }
    if organisation is not None:
        found: dict[str, Any] = {"name": organisation.name}
        if organisation.type:
            found["organisationType"] = organisation.type
        if organisation.country:
            found["country"] = organisation.country
        note["organisation"] = found
    return note


def _text(value: Any, field: str, limit: int) -> str:
    if not isinstance(value, str):
        raise ValidationError("must be text", field=field)
    text = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(text) > limit:
        raise ValidationError(f"is longer than {limit} characters", field=field)
    return text


def read_organisation(value: Any) -> Organisation:
    """An organisation as received (``organisationType``, ``country``), its codes checked."""
    if not isinstance(value, dict):
        raise ValidationError("must be an object", field="organisation")
    name = _text(value.get("name", ""), "organisation.name", MAX_ORGANISATION_NAME)
    kind = value.get("organisationType")
    country = value.get("country")
    return Organisation(
        name=name,
        type=None
        if kind is None
        else vocabulary("organisation-types").check(kind, "organisation.organisationType"),
        country=None if country is None else vocabulary("countries").check(country, "country"),
    )


def read_interest_note(document: dict[str, Any]) -> InterestNote | None:
    """The interest ``Note`` ``document`` is, ``None`` when it carries no ``interestIn`` (an
    ordinary note); a :class:`ValidationError` when it is one but malformed or public."""
    offer = document.get("interestIn")
    if offer is None:
        return None
    if not isinstance(offer, str) or not offer:
        raise ValidationError("must be the offer's id", field="interestIn")
    uri, reply = document.get("id"), document.get("inReplyTo")
    if not isinstance(uri, str) or not isinstance(reply, str):
        raise ValidationError("an interest message has an id and inReplyTo", field="inReplyTo")
    if is_public(document):
        raise ValidationError("an interest message is never public", field="to")
    authors = list(ids_of(document.get("attributedTo")))
    if len(authors) != 1:
        raise ValidationError("an interest message has one author", field="attributedTo")
    message = _text(document.get("interestMessage"), "interestMessage", MAX_MESSAGE)
    if not message:
        raise ValidationError("must not be empty", field="interestMessage")
    organisation = document.get("organisation")
    recipients = recipients_of(document)
    return InterestNote(
        uri=uri,
        author=authors[0],
        offer=offer,
        in_reply_to=reply,
        recipients=recipients,
        message=message,
        organisation=None if organisation is None else read_organisation(organisation),
    )
