"""What a member may write in a thread or a reply, checked before anything is stored."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fedi.errors import ValidationError
from fedi.vocabulary import vocabulary

__all__ = ["MAX_BODY", "MAX_TITLE", "ReplyInput", "ThreadInput", "read_reply", "read_thread"]

MAX_TITLE = 300
MAX_BODY = 100_000


@dataclass(frozen=True)
class ThreadInput:
    title: str
    body: str
    language: str


@dataclass(frozen=True)
class ReplyInput:
    body: str
    in_reply_to: str | None
    language: str


def _known(fields: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    if not isinstance(fields, Mapping):
        raise ValidationError("the body must be a JSON object")
    unknown = sorted(str(name) for name in set(fields) - set(allowed))
    if unknown:
        names = ", ".join(allowed)
        raise ValidationError(
            f"{unknown[0]}: unknown field; this takes {names}",
            errors={name: [f"unknown field; this takes {names}"] for name in unknown},
        )


def _body(value: Any) -> str:
    if not isinstance(value, str):
        raise ValidationError("body: is required", field="body")
    body = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not body:
        raise ValidationError("body: is required", field="body")
    if len(body) > MAX_BODY:
        raise ValidationError(f"body: must be at most {MAX_BODY} characters", field="body")
    if any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in body):
        raise ValidationError("body: must not contain control characters", field="body")
    return body


def _language(fields: Mapping[str, Any]) -> str:
    """The ``language`` given (a code of the vocabulary), English when none is given."""
    if "language" not in fields:
        return "en"
    return vocabulary("languages").check(fields["language"], "language")


def read_thread(fields: Mapping[str, Any]) -> ThreadInput:
    """``title``, ``body`` (Markdown) and ``language`` (English when not given)."""
    _known(fields, ("title", "body", "language"))
    title = fields.get("title")
    if not isinstance(title, str) or not title.strip():
        raise ValidationError("title: is required", field="title")
    title = title.strip()
    if len(title) > MAX_TITLE:
        raise ValidationError(f"title: must be at most {MAX_TITLE} characters", field="title")
    if any(unicodedata.category(c) == "Cc" for c in title):
        raise ValidationError("title: must be one line of text", field="title")
    return ThreadInput(title, _body(fields.get("body")), _language(fields))


def read_reply(fields: Mapping[str, Any]) -> ReplyInput:
    """``body`` (Markdown), ``in_reply_to`` (the id of a post of the thread; the thread's first
    post when not given) and ``language``."""
    _known(fields, ("body", "in_reply_to", "language"))
    parent = fields.get("in_reply_to")
    if parent is not None and (not isinstance(parent, str) or not parent or len(parent) > 2048):
        raise ValidationError("in_reply_to: must be the id of a post", field="in_reply_to")
    return ReplyInput(_body(fields.get("body")), parent or None, _language(fields))
