"""Reports (``Flag``): a member or a remote server points moderators at an object or an actor.

:func:`report` stores the report with a copy of what it names (as this instance holds it then)
and notifies every admin and moderator. It uses the data model only, so the inbound ``Flag``
handler calls it as the web layer does.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.db.models import Actor, ContentObject, Report
from fedi.errors import ValidationError
from fedi.services.notifications import notify, staff
from fedi.settings import Settings

__all__ = ["MAX_COMMENT", "clean_comment", "is_reportable_uri", "report"]

MAX_COMMENT = 5000
MAX_URI = 2048
# An http(s) id without whitespace, control characters or backslashes (docs/api.md; the OpenAPI
# document's pattern for ``object`` is the same expression).
_URI = re.compile(r"https?://[^\s\x00-\x1f\x7f-\x9f\\]+")
_COMMENT_CONTROLS = frozenset("\t\n\r")


def is_reportable_uri(value: object) -> bool:
    return isinstance(value, str) and len(value) <= MAX_URI and bool(_URI.fullmatch(value))


def _has_controls(text: str) -> bool:
    return any(unicodedata.category(c) == "Cc" and c not in _COMMENT_CONTROLS for c in text)


def clean_comment(text: str) -> str:
    """A received comment made fit to store: control characters dropped, cut to the limit."""
    kept = "".join(
        c for c in text if not (unicodedata.category(c) == "Cc" and c not in _COMMENT_CONTROLS)
    )
    return kept[:MAX_COMMENT]


async def _snapshot(session: AsyncSession, uris: list[str]) -> list[dict[str, Any]]:
    """The documents this instance holds for ``uris`` (content objects and actors)."""
    held: list[dict[str, Any]] = []
    for uri in uris:
        content = await session.scalar(select(ContentObject).where(ContentObject.uri == uri))
        if content is not None:
            held.append(dict(content.document))
            continue
        actor = await session.scalar(select(Actor).where(Actor.uri == uri))
        if actor is not None:
            held.append(
                dict(actor.document)
                if actor.document
                else {"id": actor.uri, "type": actor.type.value, "name": actor.display_name}
            )
    return held


async def report(
    session: AsyncSession,
    settings: Settings,
    reporter: Actor,
    object_uris: list[str],
    comment: str = "",
    *,
    uri: str | None = None,
) -> Report:
    """Store a report of ``object_uris`` (the first is what it is about) by ``reporter`` and
    notify the moderators. ``uri`` is the id of a received ``Flag``."""
    if not object_uris:
        raise ValidationError("name what is reported", field="object")
    if not all(is_reportable_uri(uri) for uri in object_uris):
        raise ValidationError(
            f"must be the id (an http(s) URL, at most {MAX_URI} characters) of the object or"
            " actor reported",
            field="object",
        )
    if len(comment) > MAX_COMMENT:
        raise ValidationError(f"at most {MAX_COMMENT} characters", field="comment")
    if _has_controls(comment):
        raise ValidationError("must not contain control characters", field="comment")
    row = Report(
        uri=uri,
        reporter_id=reporter.id,
        object_uri=object_uris[0],
        comment=comment,
        snapshot={"objects": await _snapshot(session, object_uris), "named": object_uris},
    )
    session.add(row)
    await session.flush()
    for member_id in await staff(session):
        await notify(
            session,
            settings,
            member_id,
            "report",
            actor=reporter,
            object_uri=object_uris[0],
            data={"report": row.id, "comment": comment},
        )
    return row
