"""Received follow traffic: Follow of a local actor, Accept/Reject of our Follow, Undo(Follow).

Every handler is idempotent: a peer that re-sends a Follow (Mastodon does when it never saw our
Accept) gets a fresh Accept and no second row.
"""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.db.models import Actor, ActorType, Follow, FollowState
from fedi.federation.job import Dropped, Job
from fedi.federation.outbox import new_activity_id, publish
from fedi.federation.shapes import type_of
from fedi.federation.vocab import AS2_CONTEXT, first_id
from fedi.services.notifications import notify_follow
from fedi.settings import Settings

__all__ = ["handle_accept", "handle_follow", "handle_reject", "handle_undo", "send_answer"]


def _embeddable(document: dict[str, Any]) -> dict[str, Any]:
    """The received activity as it is embedded in our answer: without its own ``@context`` or
    a Linked-Data signature, which would not verify in another document."""
    return {k: v for k, v in document.items() if k not in ("@context", "signature")}


async def handle_follow(job: Job) -> str:
    """Record a follow of a local actor; accept it at once unless the actor approves followers
    by hand (groups always accept), and answer with an ``Accept`` embedding the Follow, which
    Mastodon needs to match it (it reads the embedded Follow's id)."""
    followed = await job.local_actor(job.shape.object_id)
    if followed is None:
        raise Dropped("follow of an unknown local actor")
    follow = await job.session.scalar(
        select(Follow).where(Follow.follower_id == job.actor.id, Follow.followed_id == followed.id)
    )
    clash = await job.session.scalar(select(Follow.id).where(Follow.uri == job.shape.id))
    new = follow is None
    if follow is None:
        if clash is not None:
            raise Dropped("follow id already used for another follow")
        follow = Follow(
            uri=job.shape.id,
            follower_id=job.actor.id,
            followed_id=followed.id,
            state=FollowState.PENDING,
        )
        job.session.add(follow)
    elif clash is None:
        follow.uri = job.shape.id  # a re-follow carries a new id; answer that one
    automatic = followed.type is ActorType.GROUP or not followed.manually_approves_followers
    if follow.state is not FollowState.ACCEPTED and automatic:
        follow.state = FollowState.ACCEPTED
        follow.accepted_at = job.ctx.clock()
    if new:
        pending = follow.state is not FollowState.ACCEPTED
        await notify_follow(job.session, job.ctx.settings, followed, job.actor, pending=pending)
    if follow.state is not FollowState.ACCEPTED:
        return "follow pending"
    await job.session.flush()
    await send_answer(
        job.session, job.ctx.settings, followed, job.actor, job.activity.document, "Accept"
    )
    return "follow accepted"


async def send_answer(
    session: AsyncSession,
    settings: Settings,
    followed: Actor,
    follower: Actor,
    follow_document: dict[str, Any],
    kind: Literal["Accept", "Reject"],
) -> None:
    """Queue ``Accept`` or ``Reject`` of a received Follow to the follower's inbox.

    The Follow is embedded as received: Mastodon matches the answer by the embedded Follow's id.
    """
    answer = {
        "@context": AS2_CONTEXT,
        "id": new_activity_id(settings),
        "type": kind,
        "actor": followed.uri,
        "object": _embeddable(follow_document),
        "to": [follower.uri],
    }
    await publish(session, followed, answer, inboxes=[follower.inbox])


async def _our_follow(job: Job) -> Follow | None:
    """The Follow we sent that this Accept/Reject answers, or ``None``.

    Matched by the Follow's id (embedded or as an IRI); failing that by the embedded Follow's
    (actor, object) pair, since some servers send the Follow back with an id of their own; and for
    a bare unknown IRI, the one pending follow of this actor by a local one, if there is exactly
    one. Only the followed actor may answer.
    """
    base = (
        select(Follow)
        .join(Actor, Actor.id == Follow.follower_id)
        .where(Follow.followed_id == job.actor.id, Actor.local.is_(True))
    )
    if job.shape.object_id is not None:
        found = await job.session.scalar(base.where(Follow.uri == job.shape.object_id))
        if found is not None:
            return found
    embedded = job.shape.object
    if embedded is not None:
        if type_of(embedded) != "Follow":
            return None
        if first_id(embedded.get("object")) != job.actor.uri:
            return None
        follower = await job.local_actor(first_id(embedded.get("actor")))
        if follower is None:
            return None
        return await job.session.scalar(base.where(Follow.follower_id == follower.id))
    pending = list(
        await job.session.scalars(base.where(Follow.state == FollowState.PENDING).limit(2))
    )
    return pending[0] if len(pending) == 1 else None


async def handle_accept(job: Job) -> str:
    """Mark our Follow accepted. An Accept of anything else (GoToSocial approvals) is ignored."""
    follow = await _our_follow(job)
    if follow is None:
        return "no matching follow"
    if follow.state is not FollowState.ACCEPTED:
        follow.state = FollowState.ACCEPTED
        follow.accepted_at = job.ctx.clock()
    return "follow accepted"


async def handle_reject(job: Job) -> str:
    """Drop our Follow, pending or accepted (Mastodon rejects to remove a follower)."""
    follow = await _our_follow(job)
    if follow is None:
        return "no matching follow"
    await job.session.delete(follow)
    return "follow rejected"


async def handle_undo(job: Job) -> str:
    """Undo(Follow) removes the follow; other Undos (Like, Announce, Block) are ignored."""
    embedded = job.shape.object
    if embedded is not None:
        if first_id(embedded.get("actor")) not in (None, job.actor.uri):
            raise Dropped("undo of another actor's activity")
        if type_of(embedded) != "Follow":
            return "nothing to undo"
    base = select(Follow).where(Follow.follower_id == job.actor.id)
    follow = None
    if job.shape.object_id is not None:
        follow = await job.session.scalar(base.where(Follow.uri == job.shape.object_id))
    if follow is None and embedded is not None:
        followed = await job.local_actor(first_id(embedded.get("object")))
        if followed is not None:
            follow = await job.session.scalar(base.where(Follow.followed_id == followed.id))
    if follow is None:
        return "nothing to undo"
    await job.session.delete(follow)
    return "follow undone"
