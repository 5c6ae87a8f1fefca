"""One received activity being processed: what every handler gets, and how it refuses."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.db.models import Activity, Actor
from fedi.errors import FediError
from fedi.federation.shapes import ActivityShape
from fedi.instance import InstanceContext
from fedi.net.client import FetchBudget
from fedi.net.errors import BadUrl
from fedi.net.urls import host_of

__all__ = ["Dropped", "Job", "object_host"]


class Dropped(FediError):
    """Processing refuses the activity (for example SECURITY.md rules 18-21); ``str(exc)`` is
    the reason recorded on the activity."""


def object_host(uri: str) -> str:
    """The normalised ``host[:port]`` of ``uri``; :class:`Dropped` if it is not a valid URL."""
    try:
        return host_of(uri)
    except BadUrl:
        raise Dropped(f"not a valid url: {uri[:100]}") from None


@dataclass
class Job:
    """A received activity, its verified actor, the open session and the fetch budget."""

    ctx: InstanceContext
    session: AsyncSession
    activity: Activity
    actor: Actor
    shape: ActivityShape
    budget: FetchBudget
    # Parents of stored replies that we do not hold: fetched once the activity is committed.
    missing_parents: list[str] = field(default_factory=list)
    # Threads first seen with this activity, as (context, first post): their earlier posts are
    # read from their collections once the activity is committed.
    new_threads: list[tuple[str | None, str | None]] = field(default_factory=list)

    def require_object_id(self) -> str:
        if self.shape.object_id is None:
            raise Dropped(f"{self.shape.type} without an object")
        return self.shape.object_id

    async def cached_actor(self, uri: str) -> Actor | None:
        return await self.session.scalar(select(Actor).where(Actor.uri == uri))

    async def local_actor(self, uri: str | None) -> Actor | None:
        """The local, not deleted actor ``uri``, or ``None``."""
        if uri is None:
            return None
        return await self.session.scalar(
            select(Actor).where(Actor.uri == uri, Actor.local.is_(True), Actor.deleted_at.is_(None))
        )
