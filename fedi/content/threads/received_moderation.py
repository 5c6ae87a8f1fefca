"""What a remote forum's ``Announce`` of a moderation or an edit does to the posts we hold of it
(FEP-1b12, as Lemmy and Mbin send them): ``Lock`` and ``Undo`` of a ``Lock`` close and reopen a
thread, ``Add`` and ``Remove`` (``target`` the forum's ``featured``) pin and unpin it, a
``Delete`` by the author or by one of the forum's moderators removes a post, an ``Update``
refreshes a post from its origin.

The forum signed the ``Announce``, so it is believed about the posts filed under it, and only
those: a post is the forum's when its ``audience`` is the forum, or, for a reply, when its
thread's is. An ``Update`` is never taken from the embedded copy: the post is fetched from its
own id and must still be by its author. Every function works in the job's session.
"""

from __future__ import annotations

from typing import Any

from fedi.actors.remote import fetch_document
from fedi.content import service as content
from fedi.db.models import Actor, ActorType, ContentObject, utcnow
from fedi.federation.job import Dropped, Job
from fedi.federation.shapes import read_object, type_of
from fedi.federation.vocab import first_id, ids_of
from fedi.net.urls import same_document

__all__ = ["handle_forum_announce"]


async def _in_forum(job: Job, obj: ContentObject) -> bool:
    """Whether ``obj`` is filed under the announcing forum (its own ``audience`` or its
    thread's)."""
    forum = job.actor.uri
    if obj.audience == forum:
        return True
    if obj.context and obj.context != obj.uri:
        thread = await content.find(job.session, obj.context)
        return thread is not None and thread.audience == forum
    return False


async def _held(job: Job, object_id: str | None) -> ContentObject | None:
    """The remote post ``object_id`` filed under the forum; ``None`` when we hold no such post
    or it is ours (a forum elsewhere decides what it shows, not what we keep)."""
    if object_id is None:
        raise Dropped("announced activity without an object")
    found = await content.find(job.session, object_id)
    if found is None or found.local:
        return None
    if not await _in_forum(job, found):
        raise Dropped("object is not filed under the announcing forum")
    return found


def _set_state(obj: ContentObject, term: str, value: bool | None) -> None:
    document = {k: v for k, v in obj.document.items() if k != term}
    if value is not None:
        document[term] = value
    obj.document = document


async def _lock(obj: ContentObject, locked: bool) -> str:
    if obj.type != "Page":
        return "lock of a reply ignored"
    _set_state(obj, "commentsEnabled", False if locked else None)
    return "thread locked" if locked else "thread unlocked"


async def _delete(job: Job, obj: ContentObject, inner: dict[str, Any]) -> str:
    if obj.deleted_at is not None:
        return "already deleted"
    author = await job.session.get(Actor, obj.attributed_to_id)
    by_author = author is not None and first_id(inner.get("actor")) == author.uri
    content.tombstone(obj, now=job.ctx.clock())
    return "object deleted" if by_author else "object removed by the forum's moderators"


async def _update(job: Job, obj: ContentObject, inner: dict[str, Any]) -> str:
    author = await job.session.get(Actor, obj.attributed_to_id)
    if author is None or first_id(inner.get("actor")) != author.uri:
        raise Dropped("update by someone other than the author")
    if obj.deleted_at is not None:
        return "already deleted"
    fetched = await fetch_document(job.ctx, job.session, obj.uri, budget=job.budget)
    if not same_document(fetched.url, obj.uri):
        raise Dropped("object is served under another id")
    document = fetched.data
    if author.uri not in ids_of(document.get("attributedTo")) or type_of(document) != obj.type:
        raise Dropped("object belongs to another actor")
    content.revise(obj, read_object(document, public_default=obj.public), document, now=utcnow())
    return "updated"


async def handle_forum_announce(job: Job) -> str:
    """A forum's ``Announce`` of a ``Lock``, ``Undo``, ``Add``, ``Remove``, ``Delete`` or
    ``Update`` about a post filed under it."""
    inner = job.shape.object
    if inner is None or job.actor.type is not ActorType.GROUP:
        return "recorded"
    kind = type_of(inner)
    target = inner.get("object")
    if kind == "Undo":
        if not isinstance(target, dict) or type_of(target) != "Lock":
            return "recorded"
        found = await _held(job, first_id(target.get("object")))
        return "not a post held here" if found is None else await _lock(found, False)
    found = await _held(job, first_id(target))
    if found is None:
        return "not a post held here"
    if kind == "Lock":
        return await _lock(found, True)
    if kind in ("Add", "Remove"):
        featured = first_id(inner.get("target"))
        if featured is None or not featured.startswith(job.actor.uri):
            raise Dropped("target is not the forum's featured collection")
        if found.type != "Page":
            return "only threads are pinned"
        _set_state(found, "stickied", True if kind == "Add" else None)
        return "thread pinned" if kind == "Add" else "thread unpinned"
    if kind == "Delete":
        return await _delete(job, found, inner)
    if kind == "Update":
        return await _update(job, found, inner)
    return "recorded"
