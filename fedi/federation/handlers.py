"""What each received activity does, called by :class:`fedi.federation.inbound.InboxProcessor`.

A handler gets a :class:`Job` (the activity, its verified actor, an open session and a fetch
budget of 20, SECURITY.md rule 32), writes its effects in the session and returns a short outcome
for the log; it raises :class:`Dropped` (or a fetch/validation error) to refuse the activity, in
which case nothing it wrote is kept. Handlers fetch before they write (see the processor).
Handlers are found by activity type and object type (:func:`handler_for`). Follows live in
:mod:`fedi.follows.inbound`; this module holds content and actor updates. Content objects are
written through :mod:`fedi.content.service`, as local publishing writes them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import delete, or_

from fedi.actors.document import (
    ACTOR_TYPES,
    ActorDocumentError,
    ParsedActor,
    actor_type_of,
    parse_actor_document,
)
from fedi.actors.remote import fetch_actor, fetch_document, store_actor
from fedi.content import service as content
from fedi.content.ancestors import remote_host
from fedi.content.backfill import first_seen
from fedi.content.likes import handle_like, handle_undo, handle_undo_like
from fedi.content.threads.inbound import receive_forum_post
from fedi.content.threads.received_moderation import handle_forum_announce
from fedi.db.models import ContentObject, Follow
from fedi.federation.flags import handle_flag
from fedi.federation.job import Dropped, Job, object_host
from fedi.federation.shapes import CONTENT_TYPES, ObjectFields, read_object, type_of
from fedi.federation.vocab import ids_of
from fedi.follows.inbound import handle_accept, handle_follow, handle_reject
from fedi.net.urls import same_document
from fedi.partners.interest_inbound import is_interest_note, receive_interest
from fedi.partners.replication import drop_replica, is_offer_page, is_peer, keep_replica
from fedi.services.notifications import notify_mentions
from fedi.services.questions_inbound import is_question_message, receive_question

__all__ = ["HANDLERS", "Dropped", "Handler", "HandlerKey", "Job", "handler_for"]

Handler = Callable[[Job], Awaitable[str]]


async def _trusted_object(job: Job, object_id: str) -> dict[str, Any]:
    """The object's document, trusted only as its origin serves it or as its author embeds it.

    An embedded object attributed to the activity's actor is taken as is (it came signed by
    them, from their host). Otherwise, an IRI or an embedded object attributed to someone else
    (rule 19), it is fetched from its own id.
    """
    embedded = job.shape.object
    if embedded is not None and _authored_by_actor(job, embedded):
        return embedded
    fetched = await fetch_document(job.ctx, job.session, object_id, budget=job.budget)
    if not same_document(fetched.url, object_id):
        raise Dropped("object is served under another id")
    return fetched.data


def _authored_by_actor(job: Job, document: dict[str, Any]) -> bool:
    """The actor is the object's author: listed in ``attributedTo``, or, when the object names
    no author at all, on the object's own host (some servers leave ``attributedTo`` out of an
    object they embed in their actor's activity)."""
    authors = list(ids_of(document.get("attributedTo")))
    if authors:
        return job.actor.uri in authors
    ident = document.get("id")
    return isinstance(ident, str) and object_host(ident) == job.actor.domain


async def _author(job: Job, fields: ObjectFields) -> int:
    """The row id of the object's author: the actor when listed (or when none is listed and the
    object is on the actor's host), else the first listed author on the object's host (cached or
    fetched)."""
    if job.actor.uri in fields.attributed_to:
        return job.actor.id
    if not fields.attributed_to and object_host(fields.uri) == job.actor.domain:
        return job.actor.id
    host = object_host(fields.uri)
    for uri in fields.attributed_to:
        if object_host(uri) != host:
            continue
        cached = await job.cached_actor(uri)
        if cached is not None:
            return cached.id
        actor = await fetch_actor(job.ctx, uri, budget=job.budget, session=job.session)
        return actor.id
    raise Dropped("object has no author on its host")


async def handle_create(job: Job) -> str:
    """Store a content object (rules 18, 19). A known object is left as it is."""
    object_id = job.require_object_id()
    if object_host(object_id) != job.actor.domain:
        raise Dropped("object is on a third host")  # rule 18
    document = await _trusted_object(job, object_id)
    if type_of(document) not in CONTENT_TYPES:
        return "not a content type"
    fields = read_object(document, public_default=job.shape.public)
    if await content.find(job.session, fields.uri) is not None:
        return "already known"
    author_id = await _author(job, fields)
    new_thread = await _new_thread(job, fields)
    row = content.create(job.session, fields, document, author_id=author_id, local=False)
    await notify_mentions(job.session, job.ctx.settings, row, job.actor)
    await receive_forum_post(job.session, job.ctx.settings, row, job.activity.document)
    parent = fields.in_reply_to
    parent_missing = parent is not None and await content.find(job.session, parent) is None
    if parent_missing and parent is not None:
        job.missing_parents.append(parent)
    if new_thread is not None:
        context, thread_start = new_thread
        job.new_threads.append((context, thread_start))
    elif parent_missing and (fields.context is None or remote_host(fields.context) is None):
        job.new_threads.append((None, None))  # its first post is known once its ancestors are
    return await _replicated(job, row, document) or "stored"


async def _new_thread(job: Job, fields: ObjectFields) -> tuple[str, str | None] | None:
    """``(context, first post)`` of the remote thread that the post ``fields`` shows us first: a
    reply, or a forum's Page, naming a ``context`` on another server that no reply held here
    names yet; ``None`` otherwise. The first post is the Page itself, else not known yet."""
    context = fields.context
    if context is None or remote_host(context) in (None, job.ctx.settings.domain):
        return None
    starts = fields.in_reply_to is None
    if starts and not (fields.type == "Page" and fields.audience):
        return None
    if not await first_seen(job.session, context):
        return None
    return context, fields.uri if starts else None


async def _replicated(job: Job, row: ContentObject, document: dict[str, Any]) -> str | None:
    """Keep a peer instance's partner offer as a replica (:mod:`fedi.partners.replication`);
    ``None`` when ``document`` is no peer's offer."""
    if not is_offer_page(document) or not await is_peer(job.session, job.actor.domain):
        return None
    await job.session.flush()
    return await keep_replica(job.session, job.ctx.settings, row, document, now=job.ctx.clock())


async def handle_create_note(job: Job) -> str:
    """A ``Note``: an interest message (a direct message about a partner offer, handled by
    :mod:`fedi.partners.interest_inbound`) or a question to an expert or an answer about one
    (:mod:`fedi.services.questions_inbound`), neither ever stored as content; else any
    content."""
    if is_interest_note(job.shape.object):
        return await receive_interest(job)
    if await is_question_message(job.session, job.shape.object):
        return await receive_question(job)
    return await handle_create(job)


async def update_actor(job: Job) -> str:
    """An ``Update`` of an embedded actor: only of the activity's actor itself (rule 20)."""
    if job.require_object_id() != job.actor.uri:
        raise Dropped("update of another actor")  # rule 20
    return await _update_actor(job)


async def handle_update(job: Job) -> str:
    """Update an object or the actor itself (given by its IRI), only by its owner (rules 20, 21)."""
    object_id = job.require_object_id()
    if object_id == job.actor.uri:
        return await _update_actor(job)
    if job.shape.object is not None and actor_type_of(job.shape.object) is not None:
        raise Dropped("update of another actor")  # rule 20: an actor type not among ours
    if object_host(object_id) != job.actor.domain:
        raise Dropped("object belongs to another host")  # rule 20
    existing = await content.find(job.session, object_id)
    if existing is not None and existing.attributed_to_id != job.actor.id:
        raise Dropped("object belongs to another actor")  # rule 20
    document = await _trusted_object(job, object_id)
    if type_of(document) not in CONTENT_TYPES:
        return "not a content type"
    fields = read_object(document, public_default=job.shape.public)
    if not _authored_by_actor(job, document):
        raise Dropped("object belongs to another actor")  # rule 20
    if existing is None:
        row = content.create(job.session, fields, document, author_id=job.actor.id, local=False)
        row.updated = fields.updated or job.ctx.clock()
        return await _replicated(job, row, document) or "updated"
    if existing.deleted_at is not None:
        return "already deleted"
    content.revise(existing, fields, document, now=job.ctx.clock())
    return await _replicated(job, existing, document) or "updated"


def _key_material(
    actor: ParsedActor | Any,
) -> tuple[str | None, str | None, str | None, str | None]:
    pem = actor.public_key_pem
    return (
        actor.public_key_id,
        "".join(pem.split()) if pem else None,
        actor.ed25519_key_id,
        actor.ed25519_public_multibase,
    )


async def _update_actor(job: Job) -> str:
    """Refresh the actor from an ``Update`` of itself.

    Rule 21: an embedded document that swaps the keys is only believed if the actor's origin
    serves the new keys too; if the origin still serves the old key, the old key is still valid
    and the swap is refused (a stolen key must not let its thief install their own).
    """
    embedded = job.shape.object
    try:
        parsed = parse_actor_document(embedded, job.actor.uri) if embedded is not None else None
    except ActorDocumentError as exc:
        raise Dropped(f"invalid actor update: {exc}") from None
    old = _key_material(job.actor)
    if parsed is None or _key_material(parsed) != old:
        fetched = await fetch_document(job.ctx, job.session, job.actor.uri, budget=job.budget)
        origin = parse_actor_document(fetched.data, job.actor.uri)
        if parsed is not None and _key_material(origin) == old:
            raise Dropped("publicKey swap while the old key is still valid")
        parsed = origin
    await store_actor(
        job.session, parsed, now=job.ctx.clock(), local_domain=job.ctx.settings.domain
    )
    return "actor updated"


async def handle_delete(job: Job) -> str:
    """Mark an object deleted (its content dropped) or the actor itself deleted (rule 20)."""
    object_id = job.require_object_id()
    now = job.ctx.clock()
    if object_id == job.actor.uri:
        job.actor.deleted_at = now
        await job.session.execute(
            delete(Follow).where(
                or_(Follow.follower_id == job.actor.id, Follow.followed_id == job.actor.id)
            )
        )
        return "actor deleted"
    if object_host(object_id) != job.actor.domain:
        raise Dropped("object belongs to another host")
    existing = await content.find(job.session, object_id)
    if existing is None:
        if await job.cached_actor(object_id) is not None:
            raise Dropped("delete of another actor")
        return "unknown object"
    if existing.attributed_to_id != job.actor.id:
        raise Dropped("object belongs to another actor")
    if existing.deleted_at is None:
        content.tombstone(existing, now=now)
    if await drop_replica(job.session, existing):
        return "offer replica withdrawn"
    return "object deleted"


HandlerKey = tuple[str, str | None]

HANDLERS: dict[HandlerKey, Handler] = {
    ("Follow", None): handle_follow,
    ("Accept", None): handle_accept,
    ("Reject", None): handle_reject,
    ("Undo", None): handle_undo,
    ("Undo", "Like"): handle_undo_like,
    ("Like", None): handle_like,
    ("Create", None): handle_create,
    ("Create", "Note"): handle_create_note,
    ("Update", None): handle_update,
    **{("Update", kind): update_actor for kind in sorted(ACTOR_TYPES)},
    ("Delete", None): handle_delete,
    ("Flag", None): handle_flag,
    **{
        ("Announce", kind): handle_forum_announce
        for kind in ("Lock", "Undo", "Add", "Remove", "Delete", "Update")
    },
}
"""Handlers by ``(activity type, object type)``; ``None`` stands for any object type (and for an
object given only by its IRI). Every other activity type (Announce, Like, ...) is recorded only.
A handler for one kind of object (a forum's ``Offer``, say) is one more entry."""


def handler_for(activity_type: str, object_type: str | None) -> Handler | None:
    """The handler registered for the activity and its object's type, else for the activity and
    any object; ``None`` when the activity is only recorded."""
    if object_type is not None:
        handler = HANDLERS.get((activity_type, object_type))
        if handler is not None:
            return handler
    return HANDLERS.get((activity_type, None))
