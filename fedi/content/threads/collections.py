"""The collections of a thread that other servers read to complete it: the thread's ``context``
(FEP-7888: the thread's Page, then its replies, oldest first) and each post's ``replies`` (its
direct replies, oldest first), both as IRIs, counted and paged by offset.

Only public posts that are not deleted are listed; a reply received from another server is listed
under its own id, which a reader fetches from its own host.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.content.service import public_local
from fedi.db.models import ContentObject, Thread, ThreadReply

__all__ = ["KINDS", "Listing", "direct_replies", "listing", "thread_posts"]

KINDS = ("context", "replies")


@dataclass(frozen=True)
class Listing:
    """One page of a collection's item IRIs and the collection's total."""

    items: list[str]
    total: int
    has_next: bool


def _ordered(query: Select[Any]) -> Select[Any]:
    return query.order_by(ContentObject.published, ContentObject.id)


async def _page(
    session: AsyncSession, query: Select[Any], *, offset: int, limit: int
) -> tuple[list[str], int]:
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    if limit <= 0:
        return [], int(total or 0)
    rows = await session.scalars(_ordered(query).offset(offset).limit(limit))
    return list(rows.all()), int(total or 0)


async def thread_posts(
    session: AsyncSession, page: ContentObject, *, offset: int, limit: int
) -> Listing | None:
    """The posts of the thread our forum keeps whose first post is ``page`` (the Page first);
    ``None`` when ``page`` starts no thread here."""
    if page.deleted_at is not None or await session.get(Thread, page.id) is None:
        return None
    replies = (
        select(ContentObject.uri)
        .join(ThreadReply, ThreadReply.object_id == ContentObject.id)
        .where(
            ThreadReply.thread_id == page.id,
            ContentObject.deleted_at.is_(None),
            ContentObject.public.is_(True),
        )
    )
    if offset == 0:
        items, total = await _page(session, replies, offset=0, limit=limit - 1)
        items = [page.uri, *items]
    else:
        items, total = await _page(session, replies, offset=offset - 1, limit=limit)
    total += 1
    return Listing(items, total, offset + len(items) < total)


async def direct_replies(
    session: AsyncSession, post: ContentObject, *, offset: int, limit: int
) -> Listing:
    """The public replies to ``post`` that are held here, oldest first."""
    query = select(ContentObject.uri).where(
        ContentObject.in_reply_to == post.uri,
        ContentObject.deleted_at.is_(None),
        ContentObject.public.is_(True),
    )
    items, total = await _page(session, query, offset=offset, limit=limit)
    return Listing(items, total, offset + len(items) < total)


async def listing(
    session: AsyncSession, uri: str, kind: str, *, offset: int, limit: int
) -> Listing | None:
    """The ``kind`` collection (``context`` or ``replies``) of the public local post ``uri``;
    ``None`` when there is none (no such post, deleted, or no thread's Page for ``context``)."""
    found = await public_local(session, uri)
    if found is None or found[0].deleted_at is not None:
        return None
    if kind == "context":
        return await thread_posts(session, found[0], offset=offset, limit=limit)
    if kind == "replies":
        return await direct_replies(session, found[0], offset=offset, limit=limit)
    raise ValueError(f"no collection {kind!r}")
