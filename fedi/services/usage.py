"""How much the instance is used, as NodeInfo reports it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.db.models import Activity, ContentObject, Member

__all__ = ["Usage", "usage"]


@dataclass(frozen=True)
class Usage:
    members: int
    active_month: int
    active_halfyear: int
    local_posts: int


async def usage(session: AsyncSession, now: datetime) -> Usage:
    """Enabled members, members active in the last 30 and 182 days, and local posts not deleted."""
    total = await session.scalar(
        select(func.count()).select_from(Member).where(Member.disabled.is_(False))
    )

    async def active_since(days: int) -> int:
        query = (
            select(func.count(distinct(Activity.actor_id)))
            .join(Member, Member.actor_id == Activity.actor_id)
            .where(Activity.local.is_(True), Activity.created_at >= now - timedelta(days=days))
        )
        return int(await session.scalar(query) or 0)

    posts = await session.scalar(
        select(func.count())
        .select_from(ContentObject)
        .where(ContentObject.local.is_(True), ContentObject.deleted_at.is_(None))
    )
    return Usage(int(total or 0), await active_since(30), await active_since(182), int(posts or 0))
