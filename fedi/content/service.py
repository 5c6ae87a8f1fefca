"""The one way content objects are written, by local publishing and by received activities alike.

:mod:`fedi.services.publishing` (a member's ``Create``, ``Update`` and ``Delete`` through the
outbox) and :mod:`fedi.federation.handlers` (the same activities received from other servers)
both read the object's document with :func:`fedi.federation.shapes.read_object` and hand it here,
so that what a stored object looks like, and what happens when it is created, revised or deleted,
is decided once: HTML is stored sanitised, a revision keeps the author and the first publication
time, a deletion leaves a Tombstone and drops the text. What the document carries besides its text
(hashtags, mentions, custom emoji, attachments, the sensitive flag and content warning, the quoted
object: :mod:`fedi.content.details`) is kept in rows of its own, replaced on each revision and
removed by the tombstone. Rules to add later (search indexing,
announcing to forums, lifecycle checks) belong here, and then apply to both.

Every function works in the caller's session and transaction; none commits.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

import nh3
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.content.details import read_details
from fedi.db.models import (
    Actor,
    ContentObject,
    ObjectAttachment,
    ObjectEmoji,
    ObjectMention,
    ObjectTag,
)
from fedi.federation.html import sanitise_html
from fedi.federation.shapes import ObjectFields
from fedi.federation.vocab import AS2_CONTEXT, ids_of

__all__ = ["create", "deletion", "display_text", "find", "public_local", "revise", "tombstone"]


async def find(session: AsyncSession, uri: str) -> ContentObject | None:
    """The stored object ``uri`` (deleted ones included), or ``None``."""
    return await session.scalar(select(ContentObject).where(ContentObject.uri == uri))


async def public_local(session: AsyncSession, uri: str) -> tuple[ContentObject, Actor] | None:
    """A public local object (deleted ones too) and its author, by id."""
    row = await session.scalar(
        select(ContentObject).where(
            ContentObject.uri == uri,
            ContentObject.local.is_(True),
            ContentObject.public.is_(True),
        )
    )
    if row is None:
        return None
    author = await session.get(Actor, row.attributed_to_id)
    return None if author is None else (row, author)


def create(
    session: AsyncSession,
    fields: ObjectFields,
    document: dict[str, Any],
    *,
    author_id: int,
    local: bool,
) -> ContentObject:
    """Add a new object read from ``document`` (its ``fields``), by the actor row ``author_id``."""
    row = ContentObject(uri=fields.uri, local=local, attributed_to_id=author_id)
    _apply(row, fields, document)
    if fields.published is not None:
        row.published = fields.published
    row.updated = fields.updated
    session.add(row)
    return row


def revise(
    row: ContentObject, fields: ObjectFields, document: dict[str, Any], *, now: datetime
) -> None:
    """Replace what ``row`` says with a new version of its document; the author, the object's
    id and its first publication stay."""
    _apply(row, fields, document)
    row.updated = fields.updated or now


def tombstone(row: ContentObject, *, now: datetime) -> dict[str, Any]:
    """Mark ``row`` deleted: its text is dropped and its document becomes a Tombstone (returned,
    without ``@context``, as a ``Delete`` carries it)."""
    row.deleted_at = now
    row.name = row.summary = row.content = row.source = None
    row.content_warning = row.quote_of = None
    row.sensitive = False
    row.tags, row.mentions, row.emojis, row.attachments = [], [], [], []
    stone = {"id": row.uri, "type": "Tombstone", "formerType": row.type}
    context = row.document.get("@context")
    row.document = {"@context": context, **stone} if context else stone
    return stone


def deletion(row: ContentObject, actor: str, activity_id: str, *, now: datetime) -> dict[str, Any]:
    """Mark ``row`` deleted (:func:`tombstone`) and return the ``Delete`` by ``actor`` that says
    so, addressed to whoever the object was addressed to."""
    to, cc = list(ids_of(row.document.get("to"))), list(ids_of(row.document.get("cc")))
    return {
        "@context": AS2_CONTEXT,
        "id": activity_id,
        "type": "Delete",
        "actor": actor,
        "to": to,
        "cc": cc,
        "object": tombstone(row, now=now),
    }


def _apply(row: ContentObject, fields: ObjectFields, document: dict[str, Any]) -> None:
    row.type = fields.type
    row.in_reply_to = fields.in_reply_to
    row.context = fields.context
    row.audience = fields.audience
    row.url = fields.url
    row.name = fields.name
    # HTML is stored sanitised (the document keeps what its author sent), so that every page
    # that renders it is safe by default. Sanitising is idempotent: local HTML passes unchanged.
    row.summary = sanitise_html(fields.summary) if fields.summary is not None else None
    row.content = sanitise_html(fields.content) if fields.content is not None else None
    row.source = fields.source
    row.source_media_type = fields.source_media_type
    row.language = fields.language
    row.public = fields.public
    row.document = document
    details = read_details(document, object_type=fields.type)
    row.sensitive = details.sensitive
    row.content_warning = details.content_warning
    row.quote_of = details.quote_of
    # Replaced whole: the rows of the previous version go (delete-orphan), the new ones come.
    row.tags = [ObjectTag(position=i, name=t.name, href=t.href) for i, t in enumerate(details.tags)]
    row.mentions = [
        ObjectMention(position=i, actor_uri=m.actor_uri, name=m.name)
        for i, m in enumerate(details.mentions)
    ]
    row.emojis = [
        ObjectEmoji(position=i, shortcode=e.shortcode, icon_url=e.icon_url, media_type=e.media_type)
        for i, e in enumerate(details.emojis)
    ]
    row.attachments = [
        ObjectAttachment(
            position=i,
            kind=a.kind,
            url=a.url,
            media_type=a.media_type,
            description=a.description,
            width=a.width,
            height=a.height,
            blurhash=a.blurhash,
        )
        for i, a in enumerate(details.attachments)
    ]


def display_text(row: ContentObject) -> str:
    """A non-empty plain text standing for the object where a page lists it: its title, else
    its content as text, else its attachments' descriptions (a post that is only an image), else
    what its attachments are. Empty only for an object with nothing at all (a tombstone)."""
    if row.name:
        return row.name
    text = nh3.clean(row.content or "", tags=set()).strip()
    if text:
        return html.unescape(text)
    described = [a.description for a in row.attachments if a.description]
    if described:
        return " / ".join(described)
    return ", ".join(a.url for a in row.attachments)
