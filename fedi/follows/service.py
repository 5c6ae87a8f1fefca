"""Follows from a local actor's side: following remote actors (Follow, Undo), and answering the
follow requests of an actor that approves its followers by hand (Accept, Reject)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.db.models import Activity, Actor, ActorType, Follow, FollowState, utcnow
from fedi.errors import ConflictError, NotFoundError, ValidationError
from fedi.federation.outbox import new_activity_id, publish
from fedi.federation.vocab import AS2_CONTEXT
from fedi.follows.inbound import send_answer
from fedi.settings import Settings

__all__ = [
    "answer_follow_request",
    "follow",
    "follow_requests",
    "set_manual_approval",
    "unfollow",
]


def _follow_document(follow: Follow, follower: Actor, target: Actor) -> dict[str, Any]:
    return {
        "@context": AS2_CONTEXT,
        "id": follow.uri,
        "type": "Follow",
        "actor": follower.uri,
        "object": target.uri,
        "to": [target.uri],
    }


async def follow(
    session: AsyncSession, settings: Settings, follower: Actor, target: Actor
) -> Follow:
    """Ask ``target`` to be followed by ``follower``; pending until the target's Accept arrives."""
    if follower.id == target.id:
        raise ConflictError("an actor cannot follow itself")
    existing = await session.scalar(
        select(Follow).where(Follow.follower_id == follower.id, Follow.followed_id == target.id)
    )
    if existing is not None and existing.state is not FollowState.REJECTED:
        return existing
    if existing is not None:
        await session.delete(existing)
        await session.flush()
    row = Follow(
        uri=new_activity_id(settings),
        follower_id=follower.id,
        followed_id=target.id,
        state=FollowState.PENDING,
    )
    session.add(row)
    await session.flush()
    await publish(
        session, follower, _follow_document(row, follower, target), inboxes=[target.inbox]
    )
    return row


async def unfollow(
    session: AsyncSession, settings: Settings, follower: Actor, target: Actor
) -> None:
    """Withdraw a follow: ``Undo`` with the original Follow embedded, as Mastodon expects."""
    row = await session.scalar(
        select(Follow).where(Follow.follower_id == follower.id, Follow.followed_id == target.id)
    )
    if row is None:
        raise NotFoundError(f"{follower.uri} does not follow {target.uri}")
    undo = {
        "@context": AS2_CONTEXT,
        "id": new_activity_id(settings),
        "type": "Undo",
        "actor": follower.uri,
        "object": _follow_document(row, follower, target),
        "to": [target.uri],
    }
    await session.delete(row)
    await session.flush()
    await publish(session, follower, undo, inboxes=[target.inbox])


async def follow_requests(session: AsyncSession, followed: Actor) -> list[Actor]:
    """The actors waiting for ``followed`` to approve them, oldest first."""
    rows = await session.scalars(
        select(Actor)
        .join(Follow, Follow.follower_id == Actor.id)
        .where(Follow.followed_id == followed.id, Follow.state == FollowState.PENDING)
        .order_by(Follow.id)
    )
    return list(rows.all())


async def answer_follow_request(
    session: AsyncSession, settings: Settings, followed: Actor, follower_uri: str, *, accept: bool
) -> None:
    """Accept or reject ``follower_uri``'s follow of ``followed``.

    A pending request is accepted or dropped; rejecting an accepted follower removes it, as
    Mastodon does. The follower is told with ``Accept``/``Reject`` embedding its Follow.
    """
    row = await session.scalar(
        select(Follow)
        .join(Actor, Actor.id == Follow.follower_id)
        .where(Follow.followed_id == followed.id, Actor.uri == follower_uri)
    )
    if row is None or (accept and row.state is FollowState.ACCEPTED):
        raise NotFoundError(f"no follow request from {follower_uri}")
    follower = await session.get(Actor, row.follower_id)
    assert follower is not None
    received = await session.scalar(select(Activity.document).where(Activity.uri == row.uri))
    follow_document = received or _follow_document(row, follower, followed)
    if accept:
        row.state = FollowState.ACCEPTED
        row.accepted_at = utcnow()
    else:
        await session.delete(row)
    await session.flush()
    await send_answer(
        session, settings, followed, follower, follow_document, "Accept" if accept else "Reject"
    )


def set_manual_approval(actor: Actor, manual: bool) -> None:
    """Whether new followers of ``actor`` wait for approval. Groups always accept."""
    if actor.type is ActorType.GROUP and manual:
        raise ValidationError("groups accept their followers automatically")
    actor.manually_approves_followers = manual
