"""A local actor's public collections as stored: followers, following and outbox, each a query
counted and paged by offset, newest first."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.db.models import Activity, Actor, Follow, FollowState

__all__ = ["Collection", "count", "followers", "following", "outbox", "page"]

Collection = Callable[[Actor], Select[Any]]


def followers(actor: Actor) -> Select[str]:
    """The URIs of the actor's accepted followers."""
    return (
        select(Actor.uri)
        .join(Follow, Follow.follower_id == Actor.id)
        .where(Follow.followed_id == actor.id, Follow.state == FollowState.ACCEPTED)
        .order_by(Follow.id.desc())
    )


def following(actor: Actor) -> Select[str]:
    """The URIs of the actors the actor follows, accepted."""
    return (
        select(Actor.uri)
        .join(Follow, Follow.followed_id == Actor.id)
        .where(Follow.follower_id == actor.id, Follow.state == FollowState.ACCEPTED)
        .order_by(Follow.id.desc())
    )


def outbox(actor: Actor) -> Select[dict[str, Any]]:
    """The documents of the actor's public activities."""
    return (
        select(Activity.document)
        .where(Activity.actor_id == actor.id, Activity.local.is_(True), Activity.public.is_(True))
        .order_by(Activity.id.desc())
    )


async def count(session: AsyncSession, collection: Collection, actor: Actor) -> int:
    query = collection(actor)
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    return int(total or 0)


async def page(
    session: AsyncSession, collection: Collection, actor: Actor, *, offset: int, limit: int
) -> list[Any]:
    """At most ``limit`` items from ``offset``."""
    rows = await session.execute(collection(actor).limit(limit).offset(offset))
    return list(rows.scalars())
