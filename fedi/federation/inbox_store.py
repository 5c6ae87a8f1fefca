"""The inbox's one write: an accepted activity, and its signer when the key was just fetched.

:func:`record` runs once :data:`fedi.federation.conditions.INBOX_POLICY` has passed, in one
short transaction opened after the signature was verified (nothing is fetched while it is
open): the signer's fetched document becomes its cached row, the activity is inserted with
state ``received``, a peer that had delivery failures is marked alive, and all of it is
committed before the 202. The ``uri`` column is unique: a concurrent copy of the same activity
(a replay racing the first) loses on it and is answered 202 without side effects.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import Insert, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.db.models import Activity, ActivityState, Actor
from fedi.federation.acceptance import Incoming, Verdict
from fedi.federation.peers import mark_peer_alive
from fedi.federation.remote import ActorDocumentError, store_actor
from fedi.log import request_id_var

__all__ = ["keep_signer", "record"]


@cache
def _insert_activity() -> Insert:
    """A Core INSERT built once: no ORM unit of work on the hot path."""
    return insert(Activity.__table__)  # type: ignore[arg-type]


async def keep_signer(session: AsyncSession, incoming: Incoming) -> Actor:
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


async def record(incoming: Incoming) -> Verdict | None:
    """Write the accepted activity; ``None`` once committed, else the answer to give."""
    shape, document = incoming.activity, incoming.document
    ctx = incoming.ctx
    facts = await incoming.facts()
    for attempt in (1, 2):
        try:
            async with ctx.sessions() as session:
                actor = await keep_signer(session, incoming)
                await session.execute(
                    _insert_activity(),
                    {
                        "uri": shape.id,
                        "type": shape.type,
                        "actor_id": actor.id,
                        "object_uri": shape.object_id,
                        "local": False,
                        "public": shape.public,
                        "state": ActivityState.RECEIVED,
                        "attempts": 0,
                        "document": document,
                        "request_id": request_id_var.get(),
                        "created_at": ctx.clock(),
                    },
                )
                if facts.peer_unhealthy:
                    # The peer proved alive: close its delivery circuit, bring deliveries forward.
                    await mark_peer_alive(session, actor.domain, ctx.clock())
                await session.commit()
                return None
        except ActorDocumentError as exc:
            return Verdict(401, f"signer cannot be kept: {exc}", condition="record")
        except IntegrityError:
            # The same activity stored concurrently (a replay: 202), or the same new actor: the
            # second attempt finds that row.
            if attempt == 2:
                break
    return Verdict(202, "already received", condition="record")
