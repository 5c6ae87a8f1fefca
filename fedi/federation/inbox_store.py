"""The inbox's one write: an accepted activity, committed before the 202.

:func:`record` runs once :data:`fedi.federation.conditions.INBOX_POLICY` has passed, after the
signature was verified (nothing is fetched while a transaction is open). A signer whose key was
just fetched is stored first, in a short transaction of its own. The activity then goes to the
instance's group commit (``InstanceContext.inbox_writes``, a
:class:`~fedi.db.group_insert.GroupInsert`): the activities accepted while the previous
transaction was being written go in the next one, with one ``INSERT`` for all of them. The
``uri`` column is unique and the insert skips an id stored already, so a replay racing the first
copy is answered 202 without side effects, as ``not_seen`` answers one that arrives later.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.actors.remote import ActorDocumentError, KnownActor, store_actor
from fedi.db.models import ActivityState, Actor
from fedi.federation.acceptance import Incoming, Verdict
from fedi.federation.hosts import mark_peer_alive
from fedi.log import request_id_var

__all__ = ["keep_fetched_signer", "keep_signer", "record"]


async def keep_signer(session: AsyncSession, incoming: Incoming) -> KnownActor:
    """The verified signer's row: the cached one, or the fetched document stored now (in
    ``session``, not committed). Raises :class:`ActorDocumentError` when it cannot be stored
    (a key id another actor holds, an id of a local actor)."""
    resolver, verified = incoming.resolver, incoming.verified
    if resolver is None or verified is None:
        raise RuntimeError("signer kept before the signature was verified")
    if resolver.fetched is not None:
        ctx = incoming.ctx
        return await store_actor(
            session, resolver.fetched, now=ctx.clock(), local_domain=ctx.settings.domain
        )
    row = incoming.signer_row
    if row is None:
        row = await session.scalar(select(Actor).where(Actor.uri == verified.owner))
    if row is None:  # pragma: no cover - a verified signer is cached or fetched
        raise ActorDocumentError("unknown signer")
    return row


async def keep_fetched_signer(incoming: Incoming) -> None:
    """Store (and commit) a signer fetched to verify ``incoming``, in a short session of its own;
    nothing for a cached signer. A concurrent request storing the same signer first is no error.
    Raises :class:`ActorDocumentError` when the signer cannot be stored."""
    if incoming.resolver is None or incoming.resolver.fetched is None:
        return
    try:
        async with incoming.ctx.sessions() as session:
            await keep_signer(session, incoming)
            await session.commit()
    except IntegrityError:
        pass  # a concurrent request stored the same signer first


async def _stored_signer(incoming: Incoming) -> KnownActor:
    """The signer's row; a signer fetched just now is stored (and committed) first."""
    if incoming.resolver is not None and incoming.resolver.fetched is None:
        row = incoming.signer_row
        if row is not None:
            return row
    try:
        return await _commit_signer(incoming)
    except IntegrityError:
        # The same new actor stored concurrently: a second attempt updates that row.
        return await _commit_signer(incoming)


async def _commit_signer(incoming: Incoming) -> KnownActor:
    async with incoming.ctx.sessions() as session:
        actor = await keep_signer(session, incoming)
        await session.commit()
        return actor


async def record(incoming: Incoming) -> Verdict | None:
    """Write the accepted activity; ``None`` once committed, else the answer to give."""
    shape, ctx = incoming.activity, incoming.ctx
    try:
        actor = await _stored_signer(incoming)
    except ActorDocumentError as exc:
        return Verdict(401, f"signer cannot be kept: {exc}", condition="record")
    await ctx.inbox_writes.write(
        {
            "uri": shape.id,
            "type": shape.type,
            "actor_id": actor.id,
            "object_uri": shape.object_id,
            "local": False,
            "public": shape.public,
            "state": ActivityState.RECEIVED,
            "attempts": 0,
            "document": incoming.document,
            "request_id": request_id_var.get(),
            "created_at": ctx.clock(),
        }
    )
    ctx.received.ring()
    if (await incoming.facts()).peer_unhealthy:
        # The peer proved alive: close its delivery circuit and bring its deliveries forward.
        async with ctx.sessions() as session:
            await mark_peer_alive(session, actor.domain, ctx.clock())
            await session.commit()
    return None
