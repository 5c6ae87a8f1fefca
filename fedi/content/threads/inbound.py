"""Received posts that belong to our forums: a ``Page`` addressed to one of our forums (in
``to``, ``cc`` or ``audience``) starts a thread there; a public reply to a post of one of our
threads joins that thread. Either way the forum announces the activity to its followers, as
it announces its members' own posts. Partner offers (``Page``s with our offer terms) are left to
:mod:`fedi.partners`.

A reply is decided by the conditions of :data:`REPLY_RULES`, in order: the first to name a reason
refuses the activity (:class:`Dropped`, nothing of it kept), as a thread locked by a moderator
takes no new replies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.actors.local import is_forum
from fedi.content.threads.announce import announce_to_forum
from fedi.content.threads.service import join_thread
from fedi.db.models import Actor, ContentObject, Forum, Thread, ThreadReply
from fedi.federation.job import Dropped
from fedi.federation.vocab import ids_of
from fedi.settings import Settings

__all__ = ["REPLY_RULES", "receive_forum_post"]


def thread_locked(thread: Thread) -> str | None:
    """A moderator closed the thread to new replies."""
    return "thread is locked" if thread.locked_at is not None else None


REPLY_RULES: tuple[Callable[[Thread], str | None], ...] = (thread_locked,)
"""What a received reply to one of our threads must pass to join it."""

_STARTS = frozenset({"Page", "Article"})


def _addressed(*documents: dict[str, Any]) -> list[str]:
    found: dict[str, None] = {}
    for document in documents:
        for key in ("to", "cc", "audience"):
            found.update(dict.fromkeys(ids_of(document.get(key))))
    return list(found)


async def _our_forum(session: AsyncSession, settings: Settings, uris: list[str]) -> Actor | None:
    """The first of our open forums among ``uris``."""
    if not uris:
        return None
    actors = await session.scalars(
        select(Actor).where(Actor.uri.in_(uris), Actor.local.is_(True), Actor.deleted_at.is_(None))
    )
    for actor in actors:
        if not is_forum(actor, settings):
            continue
        state = await session.get(Forum, actor.id)
        if state is None or state.archived_at is None:
            return actor
    return None


async def _thread_of(session: AsyncSession, parent_uri: str) -> Thread | None:
    parent = await session.scalar(select(ContentObject.id).where(ContentObject.uri == parent_uri))
    if parent is None:
        return None
    row = await session.get(Thread, parent)
    if row is not None:
        return row
    reply = await session.get(ThreadReply, parent)
    return None if reply is None else await session.get(Thread, reply.thread_id)


async def receive_forum_post(
    session: AsyncSession, settings: Settings, row: ContentObject, activity: dict[str, Any]
) -> str | None:
    """File the just stored remote object ``row`` (received in ``activity``) in our forums;
    what was done, or ``None`` when it is no forum's."""
    if not row.public or row.deleted_at is not None:
        return None
    document = row.document if isinstance(row.document, dict) else {}
    if row.in_reply_to is None:
        if row.type not in _STARTS or document.get("purpose") in ("offer", "request"):
            return None
        forum = await _our_forum(session, settings, _addressed(document, activity))
        if forum is None:
            return None
        await session.flush()
        session.add(Thread(object_id=row.id, forum_id=forum.id, last_activity=row.published))
        await announce_to_forum(session, settings, forum, activity)
        return "thread started"
    thread = await _thread_of(session, row.in_reply_to)
    if thread is None:
        return None
    for rule in REPLY_RULES:
        reason = rule(thread)
        if reason is not None:
            raise Dropped(reason)
    await session.flush()
    await join_thread(session, thread, row)
    forum = await session.get(Actor, thread.forum_id)
    if forum is not None:
        await announce_to_forum(session, settings, forum, activity)
    return "reply joined its thread"
