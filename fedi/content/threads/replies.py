"""A thread's replies as pages and the API show them: oldest first, paged by position, each
with its author; and the thread page's whole read (the thread and its replies) in three
statements through the instance's :class:`~fedi.db.hot_reads.HotReads`.

A reply is shown by its text alone: its post is read as the columns a reply shows
(:class:`ReplyPost`), never as a whole row with its stored document, tags, mentions, emoji and
attachments. Functions taking a session work in it and never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from fedi.content.threads.reading import (
    ThreadView,
    find_thread,
    in_context,
    shown_thread,
    thread_query,
)
from fedi.db.models import Actor, ContentObject, ThreadReply
from fedi.db.paging import Keyset
from fedi.instance import InstanceContext

__all__ = ["ReplyPost", "ReplyView", "read_thread_page", "replies_page"]


@dataclass(frozen=True, slots=True)
class ReplyPost:
    """What a reply shows of its post: its columns, read as plain values (a long thread's
    replies are hundreds of them, which the ORM's objects would cost more to build than the
    page to render)."""

    id: int
    uri: str
    local: bool
    in_reply_to: str | None
    content: str | None
    source: str | None
    source_media_type: str | None
    language: str | None
    published: datetime
    updated: datetime | None
    attributed_to_id: int
    deleted_at: datetime | None


_POST_COLUMNS = tuple(getattr(ContentObject, name) for name in ReplyPost.__dataclass_fields__)


@dataclass(frozen=True)
class ReplyView:
    """One reply of a thread; ``obj`` is its post (the stored row, or its columns alone)."""

    key: int
    obj: ContentObject | ReplyPost
    author: Actor
    solution: bool

    @property
    def uri(self) -> str:
        return self.obj.uri

    @property
    def removed(self) -> bool:
        """Deleted or removed, kept in the tree because replies answer it."""
        return self.obj.deleted_at is not None


def _of_thread(query: Select[Any], thread: ThreadView) -> Select[Any]:
    if thread.row is not None:
        return query.join(ThreadReply, ThreadReply.object_id == ContentObject.id).where(
            ThreadReply.thread_id == thread.key
        )
    return query.where(in_context(thread.obj), ContentObject.id != thread.key)


def _replies_base(thread: ThreadView) -> Select[Any]:
    """The columns of the thread's replies that pages and the API show: those not deleted, and
    a deleted one that others answer, kept as a placeholder (``removed``) so that the tree
    keeps its shape."""
    answered = _of_thread(
        select(ContentObject.in_reply_to).where(
            ContentObject.deleted_at.is_(None), ContentObject.in_reply_to.is_not(None)
        ),
        thread,
    )
    return _of_thread(
        select(*_POST_COLUMNS).where(
            ContentObject.deleted_at.is_(None) | ContentObject.uri.in_(answered)
        ),
        thread,
    )


def _counted(thread: ThreadView) -> Select[Any]:
    """The replies that count: those not deleted."""
    return _of_thread(select(ContentObject.id).where(ContentObject.deleted_at.is_(None)), thread)


def _replies_query(thread: ThreadView, *, limit: int, offset: int) -> Select[Any]:
    """One more than ``limit`` replies from ``offset``, oldest first."""
    return (
        _replies_base(thread)
        .order_by(ContentObject.published, ContentObject.id)
        .offset(offset)
        .limit(limit + 1)
    )


def _authors_query(posts: Sequence[ReplyPost]) -> Select[Any]:
    return select(Actor).where(Actor.id.in_({post.attributed_to_id for post in posts}))


def _replies_of(
    thread: ThreadView,
    posts: Sequence[ReplyPost],
    authors: Sequence[Actor],
    *,
    limit: int,
    offset: int,
    total: int | None,
) -> Keyset[ReplyView]:
    by_id = {actor.id: actor for actor in authors}
    views = [
        ReplyView(post.id, post, by_id[post.attributed_to_id], post.uri == thread.solution)
        for post in posts[:limit]
    ]
    more = len(posts) > limit
    counted = sum(not view.removed for view in views) if total is None else total
    return Keyset(views, counted, offset + limit if more else None)


async def replies_page(
    session: AsyncSession, thread: ThreadView, *, limit: int, offset: int
) -> Keyset[ReplyView]:
    """One page of the thread's replies, oldest first; ``next_before`` is the next offset."""
    found = await session.execute(_replies_query(thread, limit=limit, offset=offset))
    posts = [ReplyPost(*row) for row in found.all()]
    authors = list((await session.scalars(_authors_query(posts))).all()) if posts else []
    # The first page that holds them all counts them too.
    total = None
    if offset != 0 or len(posts) > limit:
        total = await _count(session, _counted(thread))
    return _replies_of(thread, posts, authors, limit=limit, offset=offset, total=total)


def _count_query(query: Select[Any]) -> Select[Any]:
    return select(func.count()).select_from(query.subquery())


async def _count(session: AsyncSession, query: Select[Any]) -> int:
    return int(await session.scalar(_count_query(query)) or 0)


async def read_thread_page(
    context: InstanceContext, key: int, *, limit: int
) -> tuple[ThreadView, Keyset[ReplyView]]:
    """The thread ``key`` and its first ``limit`` replies, for its page: three statements (the
    thread, its replies, their authors; a fourth counts them when there are more), run by the
    instance's :class:`~fedi.db.hot_reads.HotReads` (on SQLite in the caller's thread,
    with no hand-over to the async driver's). A thread held from another server is read through
    the sessions. NotFoundError when there is no such thread."""

    def read(
        connection: Connection,
    ) -> tuple[ThreadView, list[ReplyPost], list[Actor], int | None] | None:
        with Session(bind=connection) as session:
            _, _, view = shown_thread(
                session.execute(thread_query(details=False), {"key": key}).first()
            )
            if view is None:
                return None
            found = session.execute(_replies_query(view, limit=limit, offset=0)).all()
            posts = [ReplyPost(*row) for row in found]
            authors = list(session.scalars(_authors_query(posts)).all()) if posts else []
            total = None
            if len(posts) > limit:
                total = int(session.scalar(_count_query(_counted(view))) or 0)
            session.expunge_all()
        return view, posts, authors, total

    found = await context.hot_reads.run(read)
    if found is None:
        async with context.sessions() as session:
            thread = await find_thread(session, key, details=False)
            return thread, await replies_page(session, thread, limit=limit, offset=0)
    thread, posts, authors, total = found
    return thread, _replies_of(thread, posts, authors, limit=limit, offset=0, total=total)
