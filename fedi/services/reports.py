"""Reports (``Flag``): a member or a remote server points moderators at an object or an actor.

:func:`report` stores the report with a copy of what it names (as this instance holds it then)
and notifies every admin and moderator. It uses the data model only, so the inbound ``Flag``
handler calls it as the web layer does.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.db.models import Actor, ContentObject, Member, Report
from fedi.db.paging import Keyset, keyset_page
from fedi.errors import ConflictError, NotFoundError, ValidationError
from fedi.federation.html import sanitise_html
from fedi.log import log_event
from fedi.services.notifications import notify, staff
from fedi.settings import Settings

__all__ = [
    "MAX_COMMENT",
    "MAX_NOTE",
    "OUTCOMES",
    "ReportRow",
    "Reported",
    "clean_comment",
    "close_report",
    "is_reportable_uri",
    "report",
    "report_by_id",
    "report_page",
]

_log = logging.getLogger("fedi.reports")

MAX_COMMENT = 5000
MAX_NOTE = 5000
# How a moderator closes a report: acted on it, or found nothing to do.
OUTCOMES = ("resolved", "dismissed")
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


@dataclass(frozen=True)
class Reported:
    """What a report is about, as the queue shows it: the object's text (sanitised again before
    it is shown), its author's handle, and where it lives."""

    uri: str
    html: str
    author: str | None
    link: str


@dataclass(frozen=True)
class ReportRow:
    """A report in the moderators' queue with who sent it and who closed it."""

    report: Report
    reporter: Actor | None
    reported: Reported
    resolver: str | None


def _handle(actor: Actor) -> str:
    return f"@{actor.username}@{actor.domain}"


def _text_of(document: dict[str, Any]) -> str:
    for key in ("content", "summary", "name"):
        value = document.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return ""


def _link_of(document: dict[str, Any], fallback: str) -> str:
    url = document.get("url")
    if isinstance(url, str) and is_reportable_uri(url):
        return url
    return fallback


async def _reported(session: AsyncSession, row: Report) -> Reported:
    snapshot = row.snapshot or {}
    documents = [doc for doc in snapshot.get("objects", []) if isinstance(doc, dict)]
    document = next((doc for doc in documents if doc.get("id") == row.object_uri), {})
    author: str | None = None
    attributed = document.get("attributedTo")
    if isinstance(attributed, list):
        attributed = next((a for a in attributed if isinstance(a, str)), None)
    if isinstance(attributed, dict):
        attributed = attributed.get("id")
    if isinstance(attributed, str):
        actor = await session.scalar(select(Actor).where(Actor.uri == attributed))
        author = _handle(actor) if actor is not None else attributed
    else:  # an actor is reported (or nothing is held): name the actor when known
        actor = await session.scalar(select(Actor).where(Actor.uri == row.object_uri))
        author = _handle(actor) if actor is not None else None
    return Reported(
        uri=row.object_uri,
        html=sanitise_html(_text_of(document)),
        author=author,
        link=_link_of(document, row.object_uri),
    )


async def _rows(session: AsyncSession, reports: list[Report]) -> list[ReportRow]:
    actor_ids = {row.reporter_id for row in reports}
    actors = {
        actor.id: actor
        for actor in await session.scalars(select(Actor).where(Actor.id.in_(actor_ids)))
    }
    member_ids = {row.resolved_by_id for row in reports if row.resolved_by_id is not None}
    found = await session.execute(select(Member.id, Member.login).where(Member.id.in_(member_ids)))
    logins = {member_id: login for member_id, login in found.all()}
    return [
        ReportRow(
            report=row,
            reporter=actors.get(row.reporter_id),
            reported=await _reported(session, row),
            resolver=logins.get(row.resolved_by_id) if row.resolved_by_id is not None else None,
        )
        for row in reports
    ]


async def report_page(
    session: AsyncSession, *, closed: bool, limit: int, before: int | None
) -> Keyset[ReportRow]:
    """Open (or closed) reports, newest first, ``limit`` at a time."""
    state = Report.resolved_at.is_not(None) if closed else Report.resolved_at.is_(None)
    page = await keyset_page(
        session, select(Report).where(state), Report.id, limit=limit, before=before
    )
    return Keyset(await _rows(session, page.rows), page.total, page.next_before)


async def report_by_id(session: AsyncSession, report_id: int) -> ReportRow:
    row = await session.get(Report, report_id)
    if row is None:
        raise NotFoundError("no such report")
    [shown] = await _rows(session, [row])
    return shown


async def close_report(
    session: AsyncSession,
    report_id: int,
    outcome: str,
    note: str,
    *,
    by: Member,
    now: datetime,
) -> Report:
    """A moderator closes an open report as ``resolved`` or ``dismissed`` with an optional note;
    the report leaves the open list and keeps who closed it and when."""
    if outcome not in OUTCOMES:
        raise ValidationError("choose resolved or dismissed", field="outcome")
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise ValidationError(f"at most {MAX_NOTE} characters", field="note")
    if _has_controls(note):
        raise ValidationError("must not contain control characters", field="note")
    row = await session.get(Report, report_id)
    if row is None:
        raise NotFoundError("no such report")
    if row.resolved_at is not None:
        raise ConflictError("the report is already closed")
    row.outcome, row.resolution_note = outcome, note
    row.resolved_by_id, row.resolved_at = by.id, now
    await session.flush()
    log_event(_log, "report closed", report=row.id, outcome=outcome, by=by.login)
    return row
