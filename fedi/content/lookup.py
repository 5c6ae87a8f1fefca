"""``GET /api/v1/lookup``: what this instance holds for an id or a page URL, local or remote.

One shape for every object (API.md "Looking up any object"): a content object by its id or its
``url``, an actor by its id or profile URL. Only what is public is answered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.db.models import Actor, ActorType, ContentObject
from fedi.net.errors import BadUrl
from fedi.net.urls import host_of

__all__ = ["Found", "lookup"]


@dataclass(frozen=True)
class Found:
    type: str
    id: str
    url: str | None
    origin: str
    local: bool
    author: str | None
    language: str | None
    title: str | None
    summary: str | None
    content_html: str | None
    tags: list[str] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)
    emojis: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    sensitive: bool = False
    in_reply_to: str | None = None
    context: str | None = None
    published: datetime | None = None
    updated: datetime | None = None


def _kind(row: ContentObject) -> str:
    """What the object is here: an Article is an experience, a Page a thread, a Note replying
    to something a reply, an Offer an offer, anything else a note."""
    if row.type == "Article":
        return "experience"
    if row.type == "Page":
        return "thread"
    if row.type == "Offer":
        return "offer"
    return "reply" if row.in_reply_to else "note"


def _origin(uri: str) -> str:
    try:
        return host_of(uri)
    except BadUrl:  # pragma: no cover - stored ids are valid urls
        return ""


def _object(row: ContentObject, author: str | None) -> Found:
    return Found(
        type=_kind(row),
        id=row.uri,
        url=row.url,
        origin=_origin(row.uri),
        local=row.local,
        author=author,
        language=row.language,
        title=row.name,
        summary=row.content_warning or row.summary,
        content_html=row.content,
        tags=[t.name for t in row.tags],
        mentions=[m.actor_uri for m in row.mentions],
        emojis=[
            {"shortcode": e.shortcode, "url": e.icon_url, "media_type": e.media_type}
            for e in row.emojis
        ],
        attachments=[
            {"url": a.url, "media_type": a.media_type, "description": a.description}
            for a in row.attachments
        ],
        sensitive=row.sensitive,
        in_reply_to=row.in_reply_to,
        context=row.context,
        published=row.published,
        updated=row.updated,
    )


def _actor(actor: Actor) -> Found:
    return Found(
        type="group" if actor.type is ActorType.GROUP else "person",
        id=actor.uri,
        url=actor.url,
        origin=actor.domain,
        local=actor.local,
        author=None,
        language=None,
        title=actor.display_name or actor.username,
        summary=None,
        content_html=actor.summary or None,
        published=actor.created_at,
    )


async def lookup(session: AsyncSession, ident: str) -> Found | None:
    """The public object or actor whose id (or page URL) is ``ident``; ``None`` when we hold
    none, or only a deleted or non-public one."""
    row = await session.scalar(
        select(ContentObject)
        .where(or_(ContentObject.uri == ident, ContentObject.url == ident))
        .order_by(ContentObject.uri != ident, ContentObject.id)
        .limit(1)
    )
    if row is not None:
        if not row.public or row.deleted_at is not None:
            return None
        author = await session.scalar(select(Actor.uri).where(Actor.id == row.attributed_to_id))
        return _object(row, author)
    actor = await session.scalar(
        select(Actor)
        .where(
            or_(Actor.uri == ident, Actor.url == ident),
            Actor.deleted_at.is_(None),
            Actor.suspended_at.is_(None),
        )
        .order_by(Actor.uri != ident, Actor.id)
        .limit(1)
    )
    if actor is None or actor.type not in (ActorType.PERSON, ActorType.GROUP):
        return None
    return _actor(actor)
