"""What each received activity does, called by :class:`fedi.federation.inbound.InboxProcessor`.

A handler gets a :class:`Job` (the activity, its verified actor, an open session and a fetch
budget of 20, SECURITY.md rule 32), writes its effects in the session and returns a short outcome
for the log; it raises :class:`Dropped` (or a fetch/validation error) to refuse the activity, in
which case nothing it wrote is kept. Handlers fetch before they write (see the processor).
Follows live in :mod:`fedi.federation.follows`; this module holds content and actor updates.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import delete, or_, select

from fedi.db.models import ContentObject, Follow
from fedi.federation.actor_document import (
    ActorDocumentError,
    ParsedActor,
    actor_type_of,
    parse_actor_document,
)
from fedi.federation.flags import handle_flag
from fedi.federation.follows import handle_accept, handle_follow, handle_reject, handle_undo
from fedi.federation.html import sanitise_html
from fedi.federation.job import Dropped, Job, object_host
from fedi.federation.remote import fetch_actor, fetch_document, store_actor
from fedi.federation.shapes import CONTENT_TYPES, ObjectFields, read_object, type_of
from fedi.federation.vocab import ids_of
from fedi.net.urls import same_document

__all__ = ["HANDLERS", "Dropped", "Handler", "Job"]

Handler = Callable[[Job], Awaitable[str]]


async def _trusted_object(job: Job, object_id: str) -> dict[str, Any]:
    """The object's document, trusted only as its origin serves it or as its author embeds it.

    An embedded object attributed to the activity's actor is taken as is (it came signed by
    them, from their host). Otherwise, an IRI or an embedded object attributed to someone else
    (rule 19), it is fetched from its own id.
    """
    embedded = job.shape.object
    if embedded is not None and job.actor.uri in ids_of(embedded.get("attributedTo")):
        return embedded
    fetched = await fetch_document(job.ctx, job.session, object_id, budget=job.budget)
    if not same_document(fetched.url, object_id):
        raise Dropped("object is served under another id")
    return fetched.data


async def _author(job: Job, fields: ObjectFields) -> int:
    """The row id of the object's author: the actor when listed, else the first listed author
    on the object's host (cached or fetched)."""
    if job.actor.uri in fields.attributed_to:
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


def _apply(row: ContentObject, fields: ObjectFields, document: dict[str, Any]) -> None:
    row.type = fields.type
    row.in_reply_to = fields.in_reply_to
    row.context = fields.context
    row.audience = fields.audience
    row.url = fields.url
    row.name = fields.name
    # Remote HTML is stored sanitised (the raw document stays in ``document``), so that every
    # page that renders it is safe by default.
    row.summary = sanitise_html(fields.summary) if fields.summary is not None else None
    row.content = sanitise_html(fields.content) if fields.content is not None else None
    row.source = fields.source
    row.source_media_type = fields.source_media_type
    row.language = fields.language
    row.public = fields.public
    row.document = document


async def handle_create(job: Job) -> str:
    """Store a content object (rules 18, 19). A known object is left as it is."""
    object_id = job.require_object_id()
    if object_host(object_id) != job.actor.domain:
        raise Dropped("object is on a third host")  # rule 18
    document = await _trusted_object(job, object_id)
    if type_of(document) not in CONTENT_TYPES:
        return "not a content type"
    fields = read_object(document, public_default=job.shape.public)
    existing = await job.session.scalar(
        select(ContentObject).where(ContentObject.uri == fields.uri)
    )
    if existing is not None:
        return "already known"
    author_id = await _author(job, fields)
    row = ContentObject(uri=fields.uri, local=False, attributed_to_id=author_id)
    _apply(row, fields, document)
    if fields.published is not None:
        row.published = fields.published
    row.updated = fields.updated
    job.session.add(row)
    return "stored"


async def handle_update(job: Job) -> str:
    """Update an object or the actor itself, only by its owner (rules 20, 21)."""
    object_id = job.require_object_id()
    if object_id == job.actor.uri:
        return await _update_actor(job)
    if job.shape.object is not None and actor_type_of(job.shape.object) is not None:
        raise Dropped("update of another actor")  # rule 20
    if object_host(object_id) != job.actor.domain:
        raise Dropped("object belongs to another host")  # rule 20
    existing = await job.session.scalar(select(ContentObject).where(ContentObject.uri == object_id))
    if existing is not None and existing.attributed_to_id != job.actor.id:
        raise Dropped("object belongs to another actor")  # rule 20
    document = await _trusted_object(job, object_id)
    if type_of(document) not in CONTENT_TYPES:
        return "not a content type"
    fields = read_object(document, public_default=job.shape.public)
    if job.actor.uri not in fields.attributed_to:
        raise Dropped("object belongs to another actor")  # rule 20
    if existing is None:
        existing = ContentObject(uri=fields.uri, local=False, attributed_to_id=job.actor.id)
        if fields.published is not None:
            existing.published = fields.published
        job.session.add(existing)
    elif existing.deleted_at is not None:
        return "already deleted"
    _apply(existing, fields, document)
    existing.updated = fields.updated or job.ctx.clock()
    return "updated"


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
    existing = await job.session.scalar(select(ContentObject).where(ContentObject.uri == object_id))
    if existing is None:
        if await job.cached_actor(object_id) is not None:
            raise Dropped("delete of another actor")
        return "unknown object"
    if existing.attributed_to_id != job.actor.id:
        raise Dropped("object belongs to another actor")
    if existing.deleted_at is None:
        existing.deleted_at = now
        existing.name = existing.summary = existing.content = existing.source = None
        existing.document = {"id": existing.uri, "type": "Tombstone", "formerType": existing.type}
    return "object deleted"


HANDLERS: dict[str, Handler] = {
    "Follow": handle_follow,
    "Accept": handle_accept,
    "Reject": handle_reject,
    "Undo": handle_undo,
    "Create": handle_create,
    "Update": handle_update,
    "Delete": handle_delete,
    "Flag": handle_flag,
}
"""Activity types with effects; every other type (Announce, Like, ...) is recorded only."""
