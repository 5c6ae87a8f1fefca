"""Threads as pages and the API show them: a forum's threads (newest activity first, or newest
started first) and one thread (its replies: ``fedi.content.threads.replies``).

A thread is the first post of a thread of one of our forums (a row in ``threads``), or a
``Page`` held from another server addressed to a forum there (its ``audience``), which members
here may read and answer. Every function works in the caller's session; none commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, raiseload

from fedi.db.models import Actor, ContentObject, Thread, ThreadReply
from fedi.db.paging import Keyset
from fedi.errors import NotFoundError
from fedi.settings import Settings

__all__ = [
    "ThreadView",
    "find_thread",
    "forum_thread_counts",
    "in_context",
    "list_threads",
    "newest_threads",
    "pinned_threads",
    "shown_thread",
    "thread_query",
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

    @property
    def context_uri(self) -> str:
        """The thread's ``context`` (FEP-7888), which its replies name: the Page's own, else its
        id (as threads written before the context collection named it)."""
        return self.obj.context or self.obj.uri

    @property
    def locked(self) -> bool:
        """Closed to new replies: by our moderators, or as its Page says (``commentsEnabled``)."""
        if self.row is not None:
            return self.row.locked_at is not None
        return _document(self.obj).get("commentsEnabled") is False

    @property
    def pinned(self) -> bool:
        if self.row is not None:
            return self.row.pinned_at is not None
        return _document(self.obj).get("stickied") is True


def _document(obj: ContentObject) -> dict[str, object]:
    return obj.document if isinstance(obj.document, dict) else {}


def thread_url(settings: Settings, key: int) -> str:
    """The thread's page here."""
    return f"{settings.base_url}/threads/{key}"


def _solution_of(obj: ContentObject, row: Thread | None, solution_uri: str | None) -> str | None:
    if row is not None:
        return solution_uri
    found = obj.document.get("acceptedAnswer") if isinstance(obj.document, dict) else None
    return found if isinstance(found, str) else None


async def _held_view(session: AsyncSession, obj: ContentObject, author: Actor) -> ThreadView:
    """The view of a thread held from another server: its forum is its ``audience``, its
    replies are the objects of its ``context``."""
    forum = None
    if obj.audience:
        forum = await session.scalar(select(Actor).where(Actor.uri == obj.audience))
    count = await session.scalar(
        select(func.count()).where(
            in_context(obj),
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


# The details of a post (tags, mentions, emoji, attachments), which pages of threads never show.
_DETAILS = (
    raiseload(ContentObject.tags),
    raiseload(ContentObject.mentions),
    raiseload(ContentObject.emojis),
    raiseload(ContentObject.attachments),
)


def in_context(page: ContentObject) -> ColumnElement[bool]:
    """The posts that name the thread of ``page`` as their context: its ``context``, or its id
    (as threads written before the context collection named it)."""
    contexts = sorted({page.uri, page.context or page.uri})
    return ContentObject.context.in_(contexts)


def _is_offer(obj: ContentObject) -> bool:
    """A partner offer's Page (our offer terms), which is no thread."""
    document = obj.document if isinstance(obj.document, dict) else {}
    return document.get("purpose") in ("offer", "request")


@cache
def thread_query(*, details: bool) -> Select[Any]:
    """The thread ``:key``'s post, row, author, forum, accepted answer and count of replies, in
    one statement; without ``details`` the post's tags, mentions, emoji and attachments are
    not read (reading them then raises). Built once: building it costs more than running it."""
    author, forum = aliased(Actor), aliased(Actor)
    answer, reply = aliased(ContentObject), aliased(ContentObject)
    replies = (
        select(func.count())
        .select_from(ThreadReply)
        .join(reply, reply.id == ThreadReply.object_id)
        .where(ThreadReply.thread_id == ContentObject.id, reply.deleted_at.is_(None))
        .scalar_subquery()
    )
    solution = select(answer.uri).where(answer.id == Thread.solution_id).scalar_subquery()
    query = (
        select(ContentObject, Thread, author, forum, solution, replies)
        .join(author, author.id == ContentObject.attributed_to_id)
        .outerjoin(Thread, Thread.object_id == ContentObject.id)
        .outerjoin(forum, forum.id == Thread.forum_id)
        .where(ContentObject.id == bindparam("key"))
    )
    return query if details else query.options(*_DETAILS)


def shown_thread(found: Row[Any] | None) -> tuple[ContentObject, Actor, ThreadView | None]:
    """The post and author of what :func:`thread_query` found, with the view of a thread of
    ours (``None`` for one held from another server); NotFoundError when it is no thread."""
    if found is None:
        raise NotFoundError("no such thread")
    obj, row, writer, group, solution_uri, count = tuple(found)
    if obj.deleted_at is not None or not obj.public or obj.type != "Page":
        raise NotFoundError("no such thread")
    if row is None:
        if obj.local or not obj.audience or obj.in_reply_to or _is_offer(obj):
            raise NotFoundError("no such thread")
        return obj, writer, None
    view = ThreadView(
        obj.id, obj, writer, group, row, int(count or 0), row.last_activity, solution_uri
    )
    return obj, writer, view


async def find_thread(session: AsyncSession, key: int, *, details: bool = True) -> ThreadView:
    """The thread whose first post is the object row ``key``; NotFoundError otherwise.

    A thread of ours is read in one statement (:func:`thread_query`); without ``details`` its
    post's tags, mentions, emoji and attachments are left unread, as pages need them not."""
    found = (await session.execute(thread_query(details=details), {"key": key})).first()
    obj, writer, view = shown_thread(found)
    return view if view is not None else await _held_view(session, obj, writer)


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
            query.order_by(
                Thread.pinned_at.is_(None),
                Thread.pinned_at.desc(),
                Thread.last_activity.desc(),
                Thread.object_id.desc(),
            )
            .offset(offset)
            .limit(limit + 1)
        )
    ).all()
    more = len(rows) > limit
    views = await _thread_views(session, [(row, obj) for row, obj in rows[:limit]], [forum])
    return Keyset(views, int(total or 0), offset + limit if more else None)


async def newest_threads(
    session: AsyncSession, forums: Sequence[Actor], *, limit: int, local_only: bool = False
) -> list[ThreadView]:
    """The ``limit`` newest threads (by their first post's date) of any of ``forums``, newest
    first, whatever their later activity; with ``local_only``, those started here alone."""
    if not forums:
        return []
    query = (
        select(Thread, ContentObject)
        .join(ContentObject, ContentObject.id == Thread.object_id)
        .where(
            Thread.forum_id.in_([forum.id for forum in forums]),
            ContentObject.deleted_at.is_(None),
        )
    )
    if local_only:
        query = query.where(ContentObject.local.is_(True))
    rows = (
        await session.execute(
            query.order_by(ContentObject.published.desc(), ContentObject.id.desc()).limit(limit)
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


async def pinned_threads(session: AsyncSession, forum: Actor) -> list[ContentObject]:
    """The forum's pinned threads (not deleted), the last pinned first: its ``featured``."""
    found = await session.scalars(
        select(ContentObject)
        .join(Thread, Thread.object_id == ContentObject.id)
        .where(
            Thread.forum_id == forum.id,
            Thread.pinned_at.is_not(None),
            ContentObject.deleted_at.is_(None),
        )
        .order_by(Thread.pinned_at.desc(), Thread.object_id.desc())
    )
    return list(found.all())


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
