"""Following remote actors from a local one: Follow, and Undo(Follow)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.db.models import Actor, Follow, FollowState
from fedi.errors import ConflictError, NotFoundError
from fedi.federation.outbox import new_activity_id, publish
from fedi.federation.vocab import AS2_CONTEXT
from fedi.settings import Settings

__all__ = ["follow", "unfollow"]


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
