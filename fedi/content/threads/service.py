"""The use cases of threads: start one in a forum, reply, mark the accepted answer.

A thread's first post is a ``Page`` and each reply a ``Note``, both written through
:mod:`fedi.content.service` like every content object, plus a ``threads`` row (the forum, the
count of replies, the last activity, the accepted answer) and a ``thread_replies`` row per
reply. Writing publishes: the author's ``Create`` goes to their followers (and, for a reply, to
the authors of the thread and of the post answered), and the forum ``Announce``s it to its
followers (:mod:`fedi.content.threads.announce`); a thread start is shared by the network group
too. Every function works in the caller's session; none commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.content import service as content
from fedi.content.network import share_with_network
from fedi.content.threads.announce import announce_to_forum
from fedi.content.threads.document import reply_note, thread_page
from fedi.content.threads.fields import read_reply, read_thread
from fedi.content.threads.reading import ThreadView, find_thread, thread_url
from fedi.db.models import Actor, ContentObject, Member, Role, Thread, ThreadReply, utcnow
from fedi.errors import ConflictError, ForbiddenError, ValidationError
from fedi.federation.outbox import new_activity_id, new_object_id, publish
from fedi.federation.shapes import read_object
from fedi.services.forums import ensure_open, find_forum
from fedi.settings import Settings

__all__ = ["join_thread", "mark_solution", "post_reply", "start_thread"]

_MODERATORS = (Role.ADMIN, Role.MODERATOR)


def _iso(moment: datetime) -> str:
    """``published`` and ``updated`` to the millisecond: the replies of a thread written within
    one second keep their order on the servers that order them by it."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _create(settings: Settings, author: Actor, document: dict[str, Any]) -> dict[str, Any]:
    return {
        "@context": document["@context"],
        "id": new_activity_id(settings),
        "type": "Create",
        "actor": author.uri,
        "published": document["published"],
        "to": document["to"],
        "cc": document["cc"],
        "object": {k: v for k, v in document.items() if k != "@context"},
    }


async def start_thread(
    session: AsyncSession,
    settings: Settings,
    author: Actor,
    slug: str,
    fields: Mapping[str, Any],
) -> ThreadView:
    """Check ``fields`` (``title``, ``body``, ``language``), start the thread in the forum
    ``slug`` and send its ``Create``; ConflictError when the forum is archived."""
    data = read_thread(fields)
    forum = await find_forum(session, settings, slug)
    await ensure_open(session, forum)
    object_id = new_object_id(settings)
    now = utcnow()

    def page(url: str) -> dict[str, Any]:
        return thread_page(
            object_id=object_id,
            url=url,
            author_uri=author.uri,
            followers_uri=author.followers_url or "",
            forum_uri=forum.uri,
            title=data.title,
            body=data.body,
            language=data.language,
            published=_iso(now),
        )

    draft = page(object_id)
    obj = content.create(session, read_object(draft), draft, author_id=author.id, local=True)
    obj.published = now
    await session.flush()
    # The page's address holds the row's id, known once the row is written.
    document = page(thread_url(settings, obj.id))
    content.revise(obj, read_object(document), document, now=now)
    obj.updated = None
    row = Thread(object_id=obj.id, forum_id=forum.id, last_activity=now)
    session.add(row)
    activity = _create(settings, author, document)
    sent = await publish(session, author, activity)
    await share_with_network(session, settings, sent)
    await announce_to_forum(session, settings, forum, activity)
    await session.flush()
    return await find_thread(session, obj.id)


async def _parent(
    session: AsyncSession, thread: ThreadView, in_reply_to: str | None
) -> ContentObject:
    """The post answered: the thread's first post, or one of its replies."""
    if in_reply_to is None or in_reply_to == thread.uri:
        return thread.obj
    parent = await content.find(session, in_reply_to)
    error = ValidationError("in_reply_to: not a post of this thread", field="in_reply_to")
    if parent is None or parent.deleted_at is not None:
        raise error
    if thread.row is not None:
        member = await session.get(ThreadReply, parent.id)
        if member is None or member.thread_id != thread.key:
            raise error
    elif parent.context not in (thread.uri, thread.context_uri):
        raise error
    return parent


async def post_reply(
    session: AsyncSession,
    settings: Settings,
    author: Actor,
    key: int,
    fields: Mapping[str, Any],
) -> ContentObject:
    """Check ``fields`` (``body``, ``in_reply_to``, ``language``), store the reply in the thread
    ``key`` and send its ``Create``; the stored reply is returned."""
    data = read_reply(fields)
    thread = await find_thread(session, key)
    if thread.locked:
        raise ConflictError("this thread is locked: it takes no new replies")
    parent = await _parent(session, thread, data.in_reply_to)
    parent_author = await session.get(Actor, parent.attributed_to_id)
    now = utcnow()
    document = reply_note(
        object_id=new_object_id(settings),
        author_uri=author.uri,
        followers_uri=author.followers_url or "",
        forum_uri=thread.forum_uri,
        thread_context_uri=thread.context_uri,
        parent_uri=parent.uri,
        also_to=[thread.author.uri, *([parent_author.uri] if parent_author else [])],
        body=data.body,
        language=data.language,
        published=_iso(now),
    )
    obj = content.create(session, read_object(document), document, author_id=author.id, local=True)
    obj.published = now
    await session.flush()
    # The reply's address on the thread's page holds the row's id, known once it is written.
    document = {**document, "url": f"{thread_url(settings, thread.key)}#reply-{obj.id}"}
    content.revise(obj, read_object(document), document, now=now)
    obj.updated = None
    activity = _create(settings, author, document)
    await publish(session, author, activity)
    if thread.row is not None:
        await join_thread(session, thread.row, obj)
        if thread.forum is not None:
            await announce_to_forum(session, settings, thread.forum, activity)
    await session.flush()
    return obj


async def join_thread(session: AsyncSession, row: Thread, reply: ContentObject) -> None:
    """File ``reply`` as one of the thread's replies (once)."""
    if await session.get(ThreadReply, reply.id) is not None:
        return
    session.add(ThreadReply(object_id=reply.id, thread_id=row.object_id))
    row.last_activity = max(row.last_activity, reply.published)


async def _moderates(session: AsyncSession, actor: Actor) -> bool:
    role = await session.scalar(
        select(Member.role).where(Member.actor_id == actor.id, Member.disabled.is_(False))
    )
    return role in _MODERATORS


async def mark_solution(
    session: AsyncSession, settings: Settings, actor: Actor, key: int, reply_uri: Any
) -> ThreadView:
    """Mark the reply ``reply_uri`` as the thread's accepted answer (by the thread's author or a
    moderator) and send the Page's ``Update`` naming it."""
    if not isinstance(reply_uri, str) or not reply_uri:
        raise ValidationError("reply: is required (the id of a reply)", field="reply")
    thread = await find_thread(session, key)
    if thread.row is None or not thread.local:
        raise ConflictError("this thread is kept by another server, which marks its answer")
    if actor.id != thread.author.id and not await _moderates(session, actor):
        raise ForbiddenError("only the thread's author or a moderator marks its answer")
    reply = await content.find(session, reply_uri)
    joined = None if reply is None else await session.get(ThreadReply, reply.id)
    if (
        reply is None
        or reply.deleted_at is not None
        or joined is None
        or (joined.thread_id != thread.key)
    ):
        raise ValidationError("reply: not a reply of this thread", field="reply")
    thread.row.solution_id = reply.id
    now = utcnow()
    document = {
        **thread.obj.document,
        "acceptedAnswer": reply.uri,
        "updated": _iso(now),
    }
    content.revise(thread.obj, read_object(document), document, now=now)
    activity = {
        "@context": document["@context"],
        "id": new_activity_id(settings),
        "type": "Update",
        "actor": thread.author.uri,
        "published": _iso(now),
        "to": document["to"],
        "cc": document["cc"],
        "object": {k: v for k, v in document.items() if k != "@context"},
    }
    sent = await publish(session, thread.author, activity)
    await share_with_network(session, settings, sent)
    if thread.forum is not None:
        await announce_to_forum(session, settings, thread.forum, activity)
    await session.flush()
    return await find_thread(session, key)
