"""What moderators do to the threads of our forums: lock one to new replies, pin one above the
others, remove a thread or a reply. Authors edit and delete their own posts in
:mod:`fedi.content.threads.editing`.

Each action is sent as Lemmy and Mbin send it (FEP-1b12): by the moderator, addressed to the
forum, and announced by the forum to its followers. Locking is ``Lock`` (``Undo`` of it to
unlock); pinning is ``Add`` to the forum's ``featured`` collection (``Remove`` from it to unpin);
removal is the moderator's ``Delete`` of the post, its Tombstone embedded. Mastodon ignores
``Lock``, an ``Add`` to a collection that is not its sender's, and a ``Delete`` by someone other
than the author. The Page says what applies (``commentsEnabled: false``, ``stickied: true``).
Every function works in the caller's session; none commits.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.actors.local import LocalActorUrls
from fedi.content import service as content
from fedi.content.threads.announce import announce_to_forum
from fedi.content.threads.document import with_state
from fedi.content.threads.reading import ThreadView, find_thread
from fedi.db.models import Actor, ContentObject, Member, Role, Thread, ThreadReply, utcnow
from fedi.errors import ConflictError, ForbiddenError, NotFoundError
from fedi.federation.outbox import new_activity_id, publish
from fedi.federation.shapes import read_object
from fedi.federation.vocab import AS2_CONTEXT, PUBLIC
from fedi.settings import Settings

__all__ = [
    "find_reply",
    "is_moderator",
    "local_thread",
    "send_in_forum",
    "set_locked",
    "set_pinned",
    "tombstone_in_forum",
]

_MODERATORS = (Role.ADMIN, Role.MODERATOR)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


async def is_moderator(session: AsyncSession, actor: Actor) -> bool:
    """Whether ``actor`` is an active admin or moderator here (who moderate every forum)."""
    role = await session.scalar(
        select(Member.role).where(Member.actor_id == actor.id, Member.disabled.is_(False))
    )
    return role in _MODERATORS


async def _require_moderator(session: AsyncSession, actor: Actor) -> None:
    if not await is_moderator(session, actor):
        raise ForbiddenError("only a moderator does this")


async def local_thread(session: AsyncSession, key: int) -> tuple[ThreadView, Thread, Actor]:
    """The thread ``key`` of one of our forums, its row and its forum; ConflictError for a
    thread another server keeps."""
    thread = await find_thread(session, key)
    if thread.row is None or thread.forum is None or not thread.local:
        raise ConflictError("this thread is kept by another server, which moderates it")
    return thread, thread.row, thread.forum


async def find_reply(session: AsyncSession, key: int) -> tuple[ContentObject, ThreadView]:
    """The reply ``key`` (not deleted) of a thread of our forums, and its thread."""
    reply = await session.get(ContentObject, key)
    joined = await session.get(ThreadReply, key)
    if reply is None or joined is None or reply.deleted_at is not None:
        raise NotFoundError("no such reply")
    try:
        thread = await find_thread(session, joined.thread_id)
    except NotFoundError:
        raise NotFoundError("no such reply") from None
    return reply, thread


async def send_in_forum(
    session: AsyncSession,
    settings: Settings,
    sender: Actor,
    forum: Actor,
    kind: str,
    obj: Any,
    **extra: Any,
) -> dict[str, Any]:
    """Send the activity ``kind`` of ``sender`` about ``obj`` to the forum and its followers,
    and have the forum announce it (FEP-1b12)."""
    activity: dict[str, Any] = {
        "@context": AS2_CONTEXT,
        "id": new_activity_id(settings),
        "type": kind,
        "actor": sender.uri,
        "published": iso(utcnow()),
        "to": [PUBLIC, forum.uri],
        "cc": [forum.followers_url or "", *extra.pop("cc", [])],
        "audience": forum.uri,
        "object": obj,
        **extra,
    }
    await publish(session, sender, activity)
    await announce_to_forum(session, settings, forum, activity)
    return activity


def _restate(thread: ThreadView, row: Thread) -> None:
    """The Page's document says whether the thread is locked and pinned."""
    document = with_state(
        thread.obj.document, locked=row.locked_at is not None, pinned=row.pinned_at is not None
    )
    content.revise(thread.obj, read_object(document), document, now=utcnow())
    thread.obj.updated = read_object(document).updated


async def set_locked(
    session: AsyncSession, settings: Settings, actor: Actor, key: int, locked: bool
) -> ThreadView:
    """Lock the thread ``key`` to new replies (``Lock``) or open it again (``Undo`` of a
    ``Lock``); nothing is sent when it already is as asked."""
    await _require_moderator(session, actor)
    thread, row, forum = await local_thread(session, key)
    if (row.locked_at is not None) == locked:
        return thread
    row.locked_at = utcnow() if locked else None
    _restate(thread, row)
    if locked:
        await send_in_forum(session, settings, actor, forum, "Lock", thread.uri)
    else:
        lock = {
            "@context": AS2_CONTEXT,
            "id": new_activity_id(settings),
            "type": "Lock",
            "actor": actor.uri,
            "published": iso(utcnow()),
            "to": [PUBLIC, forum.uri],
            "cc": [forum.followers_url or ""],
            "audience": forum.uri,
            "object": thread.uri,
        }
        await send_in_forum(session, settings, actor, forum, "Undo", lock)
    await session.flush()
    return await find_thread(session, key)


async def set_pinned(
    session: AsyncSession, settings: Settings, actor: Actor, key: int, pinned: bool
) -> ThreadView:
    """Pin the thread ``key`` (``Add`` to the forum's ``featured``) or unpin it (``Remove``)."""
    await _require_moderator(session, actor)
    thread, row, forum = await local_thread(session, key)
    if (row.pinned_at is not None) == pinned:
        return thread
    row.pinned_at = utcnow() if pinned else None
    _restate(thread, row)
    featured = LocalActorUrls(forum.uri).featured
    kind = "Add" if pinned else "Remove"
    await send_in_forum(session, settings, actor, forum, kind, thread.uri, target=featured)
    await session.flush()
    return await find_thread(session, key)


async def tombstone_in_forum(
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
    forum: Actor,
    obj: ContentObject,
    *,
    reason: str | None = None,
) -> None:
    """Make ``obj`` a Tombstone and send ``actor``'s ``Delete`` of it in the forum (the author
    deleting their own post, or a moderator removing it, with ``summary`` the reason)."""
    author = await session.get(Actor, obj.attributed_to_id)
    cc = [author.uri] if author is not None else []
    stone = content.tombstone(obj, now=utcnow())
    extra: dict[str, Any] = {"cc": [uri for uri in cc if uri != actor.uri]}
    if reason:
        extra["summary"] = reason
    await send_in_forum(session, settings, actor, forum, "Delete", stone, **extra)
    await session.flush()
