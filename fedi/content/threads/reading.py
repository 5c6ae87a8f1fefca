"""Threads as pages and the API show them: a forum's threads (newest activity first) and one
thread with its replies (oldest first, paged by position).

A thread is the first post of a thread of one of our forums (a row in ``threads``), or a
``Page`` held from another server addressed to a forum there (its ``audience``), which members
here may read and answer. Every function works in the caller's session; none commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer, raiseload

from fedi.db.models import Actor, ContentObject, Thread, ThreadReply
from fedi.db.paging import Keyset
from fedi.errors import NotFoundError
from fedi.settings import Settings

__all__ = [
    "ReplyView",
    "ThreadView",
    "find_thread",
    "forum_thread_counts",
    "list_threads",
    "newest_threads",
    "replies_page",
    "thread_url",
]


@dataclass(frozen=True)
class ThreadView:
    """A thread's first post and its state."""

    key: int
    obj: ContentObject
    author: Actor
    forum: Actor | None
    row: Thread | None
    reply_count: int
    last_activity: datetime
    solution: str | None

    @property
    def uri(self) -> str:
        return self.obj.uri

    @property
    def local(self) -> bool:
        return self.obj.local

    @property
    def title(self) -> str:
        return self.obj.name or ""

    @property
    def forum_uri(self) -> str | None:
        return self.forum.uri if self.forum is not None else self.obj.audience


@dataclass(frozen=True)
class ReplyView:
    """One reply of a thread."""

    key: int
    obj: ContentObject
    author: Actor
    solution: bool

    @property
    def uri(self) -> str:
        return self.obj.uri


def thread_url(settings: Settings, key: int) -> str:
    """The thread's page here."""
    return f"{settings.base_url}/threads/{key}"


def _solution_of(obj: ContentObject, row: Thread | None, solution_uri: str | None) -> str | None:
    if row is not None:
        return solution_uri
    found = obj.document.get("acceptedAnswer") if isinstance(obj.document, dict) else None
    return found if isinstance(found, str) else None


async def _view(session: AsyncSession, obj: ContentObject, row: Thread | None) -> ThreadView:
    author = await session.get(Actor, obj.attributed_to_id)
    if author is None:
        raise NotFoundError("no such thread")
    if row is not None:
        forum = await session.get(Actor, row.forum_id)
        solution = None
        if row.solution_id is not None:
            solution = await session.scalar(
                select(ContentObject.uri).where(ContentObject.id == row.solution_id)
            )
        counts = await _reply_counts(session, [obj.id])
        return ThreadView(
            obj.id, obj, author, forum, row, counts.get(obj.id, 0), row.last_activity, solution
        )
    forum = None
    if obj.audience:
        forum = await session.scalar(select(Actor).where(Actor.uri == obj.audience))
    count = await session.scalar(
        select(func.count()).where(
            ContentObject.context == obj.uri,
            ContentObject.id != obj.id,
            ContentObject.deleted_at.is_(None),
        )
    )
    return ThreadView(
        obj.id,
        obj,
        author,
        forum,
        None,
        int(count or 0),
        obj.published,
        _solution_of(obj, None, None),
    )


def _is_offer(obj: ContentObject) -> bool:
    """A partner offer's Page (our offer terms), which is no thread."""
    document = obj.document if isinstance(obj.document, dict) else {}
    return document.get("purpose") in ("offer", "request")


async def find_thread(session: AsyncSession, key: int) -> ThreadView:
    """The thread whose first post is the object row ``key``; NotFoundError otherwise."""
    obj = await session.get(ContentObject, key)
    if obj is None or obj.deleted_at is not None or not obj.public or obj.type != "Page":
        raise NotFoundError("no such thread")
    row = await session.get(Thread, key)
    if row is None and (obj.local or not obj.audience or obj.in_reply_to or _is_offer(obj)):
        raise NotFoundError("no such thread")
    return await _view(session, obj, row)


async def list_threads(
    session: AsyncSession, forum: Actor, *, limit: int, offset: int
) -> Keyset[ThreadView]:
    """One page of the forum's threads, the most recently active first; ``next_before`` is the
    offset of the next page."""
    query = (
        select(Thread, ContentObject)
        .join(ContentObject, ContentObject.id == Thread.object_id)
        .where(Thread.forum_id == forum.id, ContentObject.deleted_at.is_(None))
    )
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = (
        await session.execute(
            query.order_by(Thread.last_activity.desc(), Thread.object_id.desc())
            .offset(offset)
            .limit(limit + 1)
        )
    ).all()
    more = len(rows) > limit
    views = await _thread_views(session, [(row, obj) for row, obj in rows[:limit]], [forum])
    return Keyset(views, int(total or 0), offset + limit if more else None)


async def newest_threads(
    session: AsyncSession, forums: Sequence[Actor], *, limit: int
) -> list[ThreadView]:
    """The ``limit`` newest threads (by their first post's date) of any of ``forums``, newest
    first, whatever their later activity."""
    if not forums:
        return []
    rows = (
        await session.execute(
            select(Thread, ContentObject)
            .join(ContentObject, ContentObject.id == Thread.object_id)
            .where(
                Thread.forum_id.in_([forum.id for forum in forums]),
                ContentObject.deleted_at.is_(None),
            )
            .order_by(ContentObject.published.desc(), ContentObject.id.desc())
            .limit(limit)
        )
    ).all()
    return await _thread_views(session, [(row, obj) for row, obj in rows], forums)


async def _thread_views(
    session: AsyncSession, rows: list[tuple[Thread, ContentObject]], forums: Sequence[Actor]
) -> list[ThreadView]:
    """The views of threads of ``forums``, in the order of ``rows``, with a fixed number of
    queries however many there are."""
    by_id = {forum.id: forum for forum in forums}
    authors = await _actors(session, [obj.attributed_to_id for _, obj in rows])
    solutions = await _uris(session, [row.solution_id for row, _ in rows if row.solution_id])
    counts = await _reply_counts(session, [obj.id for _, obj in rows])
    return [
        ThreadView(
            obj.id,
            obj,
            authors[obj.attributed_to_id],
            by_id[row.forum_id],
            row,
            counts.get(obj.id, 0),
            row.last_activity,
            solutions.get(row.solution_id or 0),
        )
        for row, obj in rows
    ]


async def _reply_counts(session: AsyncSession, thread_ids: list[int]) -> dict[int, int]:
    """How many replies (not deleted) each of the threads has."""
    if not thread_ids:
        return {}
    found = await session.execute(
        select(ThreadReply.thread_id, func.count())
        .join(ContentObject, ContentObject.id == ThreadReply.object_id)
        .where(ThreadReply.thread_id.in_(thread_ids), ContentObject.deleted_at.is_(None))
        .group_by(ThreadReply.thread_id)
    )
    return {thread_id: int(count) for thread_id, count in found.all()}


async def _actors(session: AsyncSession, ids: list[int]) -> dict[int, Actor]:
    if not ids:
        return {}
    found = await session.scalars(select(Actor).where(Actor.id.in_(set(ids))))
    return {actor.id: actor for actor in found}


async def _uris(session: AsyncSession, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    found = await session.execute(
        select(ContentObject.id, ContentObject.uri).where(ContentObject.id.in_(set(ids)))
    )
    return {ident: uri for ident, uri in found.all()}


async def replies_page(
    session: AsyncSession, thread: ThreadView, *, limit: int, offset: int
) -> Keyset[ReplyView]:
    """One page of the thread's replies, oldest first; ``next_before`` is the next offset."""
    # A reply is shown by its text alone: neither its stored document nor its tags, mentions,
    # emoji and attachments are read (each would be hundreds of rows or JSON documents to
    # decode on a long thread); reading one of them anyway raises instead of querying.
    query = (
        select(ContentObject)
        .where(ContentObject.deleted_at.is_(None))
        .options(
            defer(ContentObject.document, raiseload=True),
            raiseload(ContentObject.tags),
            raiseload(ContentObject.mentions),
            raiseload(ContentObject.emojis),
            raiseload(ContentObject.attachments),
        )
    )
    if thread.row is not None:
        query = query.join(ThreadReply, ThreadReply.object_id == ContentObject.id).where(
            ThreadReply.thread_id == thread.key
        )
    else:
        query = query.where(ContentObject.context == thread.uri, ContentObject.id != thread.key)
    rows = list(
        (
            await session.scalars(
                query.order_by(ContentObject.published, ContentObject.id)
                .offset(offset)
                .limit(limit + 1)
            )
        ).all()
    )
    more = len(rows) > limit
    rows = rows[:limit]
    # The first page that holds them all counts them too.
    total = len(rows) if offset == 0 and not more else await _count(session, query)
    authors = await _actors(session, [obj.attributed_to_id for obj in rows])
    views = [
        ReplyView(obj.id, obj, authors[obj.attributed_to_id], obj.uri == thread.solution)
        for obj in rows
    ]
    return Keyset(views, int(total or 0), offset + limit if more else None)


async def _count(session: AsyncSession, query: Select[Any]) -> int:
    return int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)


async def forum_thread_counts(session: AsyncSession, forum_ids: list[int]) -> dict[int, int]:
    """How many threads (not deleted) each forum has."""
    if not forum_ids:
        return {}
    found = await session.execute(
        select(Thread.forum_id, func.count())
        .join(ContentObject, ContentObject.id == Thread.object_id)
        .where(Thread.forum_id.in_(forum_ids), ContentObject.deleted_at.is_(None))
        .group_by(Thread.forum_id)
    )
    return {forum_id: int(count) for forum_id, count in found.all()}
