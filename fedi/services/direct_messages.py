"""Direct messages between two people, whatever they are about.

What an expression of interest in a partner offer and a question to an expert share: the text a
person writes (line breaks made plain, trimmed, bounded), the ``Note`` addressed to one person
alone (``to`` names them, nothing public, a ``Mention`` tag so that Mastodon shows a private
mention), sent in a ``Create`` through the outbox, the text of a received ``Note`` when it
carries no term of ours (a plain reply from Mastodon), and the hourly limits counted in the
database. Every function works in the caller's transaction; none commits.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from html import unescape
from typing import Any

import nh3
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.db.models import Actor, Member
from fedi.errors import RateLimitedError, ValidationError
from fedi.federation.outbox import new_activity_id, publish
from fedi.federation.vocab import AS2_CONTEXT, ids_of
from fedi.settings import Settings

__all__ = [
    "HOUR",
    "NAMESPACE",
    "check_hourly",
    "deliver_note",
    "handle_of",
    "iso_time",
    "member_id_of",
    "mention_html",
    "paragraphs_html",
    "plain_text_of",
    "recipients_of",
    "retry_after",
    "written_text",
]

HOUR = timedelta(hours=1)
# Our JSON-LD terms (documented in docs/federation.md).
NAMESPACE = "https://schemas.transnationality.eu/ns#"


def handle_of(actor: Actor) -> str:
    """``@name@host``."""
    return f"@{actor.username}@{actor.domain}"


def iso_time(moment: datetime) -> str:
    """An RFC 3339 UTC time, to the second."""
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def written_text(value: object, field: str, limit: int) -> str:
    """What a person wrote in ``field``: text, not empty, at most ``limit`` characters once
    trimmed (browsers send a textarea's line breaks as CRLF; paragraphs are split by "\\n\\n")."""
    if not isinstance(value, str):
        raise ValidationError("must be text", field=field)
    text = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise ValidationError("must not be empty", field=field)
    if len(text) > limit:
        raise ValidationError(f"must be at most {limit} characters", field=field)
    return text


def paragraphs_html(text: str) -> str:
    """Plain text as HTML paragraphs, every character escaped."""
    blocks = [block.strip() for block in text.split("\n\n") if block.strip()]
    return "".join(
        "<p>" + "<br>".join(html.escape(line) for line in block.splitlines()) + "</p>"
        for block in blocks
    )


def mention_html(uri: str, handle: str) -> str:
    """The mention of the recipient that opens a direct message's ``content``."""
    return (
        f'<span class="h-card"><a href="{html.escape(uri)}" class="u-url mention">'
        f"{html.escape(handle)}</a></span>"
    )


_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_PARAGRAPH_END = re.compile(r"</p\s*>", re.IGNORECASE)
_LEADING_MENTIONS = re.compile(r"^(?:@[\w.\-]+(?:@[\w.\-:]+)?(?:\s+|$))+")


def plain_text_of(content: str) -> str:
    """The text of a received ``Note``'s HTML ``content``: paragraphs and line breaks kept,
    tags dropped, entities read, the mentions it opens with left out."""
    marked = _PARAGRAPH_END.sub("\n\n", _BREAK.sub("\n", content))
    text = unescape(nh3.clean(marked, tags=set()))
    blocks = [" ".join(line.split()) for line in text.split("\n")]
    joined = re.sub(r"\n{3,}", "\n\n", "\n".join(blocks)).strip()
    return _LEADING_MENTIONS.sub("", joined).strip()


def recipients_of(document: dict[str, Any]) -> tuple[str, ...]:
    """Everyone a received object is addressed to, in order, once each."""
    return tuple(
        dict.fromkeys(
            ident for key in ("to", "cc", "bto", "bcc") for ident in ids_of(document.get(key))
        )
    )


def retry_after(oldest: datetime | None, window: timedelta, now: datetime) -> int:
    """Seconds until the oldest message counted leaves the window."""
    if oldest is None:
        return int(window.total_seconds())
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=now.tzinfo)
    return max(1, int((oldest + window - now).total_seconds()) + 1)


def check_hourly(count: int, oldest: datetime | None, limit: int, what: str, now: datetime) -> None:
    """RateLimitedError when ``count`` messages of the last hour reach ``limit``."""
    if count >= limit:
        raise RateLimitedError(f"at most {limit} {what} an hour", retry_after(oldest, HOUR, now))


async def deliver_note(
    session: AsyncSession,
    settings: Settings,
    sender: Actor,
    recipient: Actor,
    note: dict[str, Any],
    context: Iterable[Any] = (),
) -> None:
    """Send ``note`` to ``recipient`` alone, in a ``Create`` through the outbox; ``context``
    is what the activity's ``@context`` adds to ActivityStreams."""
    await publish(
        session,
        sender,
        {
            "@context": [AS2_CONTEXT, *context],
            "id": new_activity_id(settings),
            "type": "Create",
            "actor": sender.uri,
            "to": [recipient.uri],
            "cc": [],
            "published": note["published"],
            "object": {key: value for key, value in note.items() if key != "@context"},
        },
        inboxes=[recipient.inbox],
    )


async def member_id_of(session: AsyncSession, actor: Actor | None) -> int | None:
    """The member an actor is, ``None`` for a remote actor."""
    if actor is None or not actor.local:
        return None
    found: int | None = await session.scalar(select(Member.id).where(Member.actor_id == actor.id))
    return found
