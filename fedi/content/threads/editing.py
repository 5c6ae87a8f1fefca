"""Authors edit and delete their own posts of a thread; a moderator's deletion is a removal
(:mod:`fedi.content.threads.moderation`).

An edit sends the author's ``Update`` of the whole Page or Note, a deletion the ``Delete`` of its
Tombstone; both go to the forum and its followers, announced by the forum (FEP-1b12), and the
Update to the author's followers too, as the post's ``Create`` went. Every function works in the
caller's session; none commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fedi.content import service as content
from fedi.content.markdown import render_markdown
from fedi.content.threads.document import with_state
from fedi.content.threads.fields import read_reply, read_thread
from fedi.content.threads.moderation import (
    find_reply,
    is_moderator,
    iso,
    local_thread,
    send_in_forum,
    tombstone_in_forum,
)
from fedi.content.threads.reading import ThreadView, find_thread
from fedi.db.models import Actor, ContentObject, utcnow
from fedi.errors import ForbiddenError, ValidationError
from fedi.federation.shapes import read_object
from fedi.federation.vocab import ids_of
from fedi.settings import Settings

__all__ = ["delete_reply", "delete_thread", "edit_reply", "edit_thread"]


def _text(document: dict[str, Any], body: str, language: str) -> dict[str, Any]:
    html = render_markdown(body)
    return {
        **document,
        "content": html,
        "contentMap": {language: html},
        "mediaType": "text/html",
        "source": {"content": body, "mediaType": "text/markdown"},
    }


async def _send_update(
    session: AsyncSession, settings: Settings, author: Actor, forum: Actor, obj: ContentObject
) -> None:
    document = obj.document
    followers = [uri for uri in ids_of(document.get("cc")) if uri != forum.followers_url]
    body = {k: v for k, v in document.items() if k != "@context"}
    await send_in_forum(session, settings, author, forum, "Update", body, cc=followers)


def _keeping_language(fields: Mapping[str, Any], obj: ContentObject) -> Mapping[str, Any]:
    """An edit that names no language keeps the post's."""
    if "language" in fields or not obj.language or not isinstance(fields, Mapping):
        return fields
    return {**fields, "language": obj.language}


def _own(author: Actor, obj: ContentObject) -> None:
    if obj.attributed_to_id != author.id:
        raise ForbiddenError("only its author edits a post")


async def edit_thread(
    session: AsyncSession, settings: Settings, author: Actor, key: int, fields: Mapping[str, Any]
) -> ThreadView:
    """The author replaces the thread's title and body (``title``, ``body``, ``language``) and
    sends the Page's ``Update``."""
    thread, row, forum = await local_thread(session, key)
    _own(author, thread.obj)
    data = read_thread(_keeping_language(fields, thread.obj))
    now = utcnow()
    document = _text(thread.obj.document, data.body, data.language)
    titled = {"name": data.title, "nameMap": {data.language: data.title}, "updated": iso(now)}
    document = with_state(
        {**document, **titled},
        locked=row.locked_at is not None,
        pinned=row.pinned_at is not None,
    )
    content.revise(thread.obj, read_object(document), document, now=now)
    await _send_update(session, settings, author, forum, thread.obj)
    await session.flush()
    return await find_thread(session, key)


async def edit_reply(
    session: AsyncSession, settings: Settings, author: Actor, key: int, fields: Mapping[str, Any]
) -> tuple[ContentObject, ThreadView]:
    """The author replaces the reply's body (``body``, ``language``) and sends its ``Update``."""
    reply, thread = await find_reply(session, key)
    _own(author, reply)
    if "in_reply_to" in fields:
        raise ValidationError("in_reply_to: a reply keeps the post it answers", field="in_reply_to")
    data = read_reply(_keeping_language(fields, reply))
    if thread.forum is None or not reply.local:
        raise ForbiddenError("only its author edits a post")
    now = utcnow()
    document = {**_text(reply.document, data.body, data.language), "updated": iso(now)}
    content.revise(reply, read_object(document), document, now=now)
    await _send_update(session, settings, author, thread.forum, reply)
    await session.flush()
    return reply, thread


async def delete_thread(
    session: AsyncSession, settings: Settings, actor: Actor, key: int, *, reason: str | None = None
) -> None:
    """Its author deletes the thread, or a moderator removes it: a Tombstone and a ``Delete``."""
    thread, _row, forum = await local_thread(session, key)
    if actor.id != thread.author.id and not await is_moderator(session, actor):
        raise ForbiddenError("only its author or a moderator deletes a thread")
    await tombstone_in_forum(session, settings, actor, forum, thread.obj, reason=reason)


async def delete_reply(
    session: AsyncSession, settings: Settings, actor: Actor, key: int, *, reason: str | None = None
) -> ThreadView:
    """Its author deletes the reply, or a moderator removes it: a Tombstone and a ``Delete``."""
    reply, thread = await find_reply(session, key)
    if thread.forum is None or thread.row is None:
        raise ForbiddenError("this thread is kept by another server")
    mine = actor.id == reply.attributed_to_id and reply.local
    if not mine and not (thread.local and await is_moderator(session, actor)):
        raise ForbiddenError("only its author or a moderator deletes a reply")
    await tombstone_in_forum(session, settings, actor, thread.forum, reply, reason=reason)
    if thread.row.solution_id == reply.id:
        # The Page no longer names a removed answer; no Update is sent for it (the Delete says
        # the answer is gone).
        thread.row.solution_id = None
        document = {k: v for k, v in thread.obj.document.items() if k != "acceptedAnswer"}
        updated = thread.obj.updated
        content.revise(thread.obj, read_object(document), document, now=utcnow())
        thread.obj.updated = updated
    await session.flush()
    return await find_thread(session, thread.key)
