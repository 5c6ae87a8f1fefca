"""The forum shares each activity of its threads with its followers (FEP-1b12): it
``Announce``s the activity itself, embedded, so that Lemmy, Mbin and other forums show the post
in the group, whether it was written here or received."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fedi.db.models import Actor, utcnow
from fedi.federation.outbox import new_activity_id, publish
from fedi.federation.vocab import AS2_CONTEXT, PUBLIC
from fedi.settings import Settings

__all__ = ["announce_to_forum"]


async def announce_to_forum(
    session: AsyncSession, settings: Settings, forum: Actor, activity: dict[str, Any]
) -> None:
    """Queue the forum's ``Announce`` of ``activity`` to the forum's followers."""
    embedded = {k: v for k, v in activity.items() if k != "@context"}
    await publish(
        session,
        forum,
        {
            "@context": AS2_CONTEXT,
            "id": new_activity_id(settings),
            "type": "Announce",
            "actor": forum.uri,
            "published": utcnow().isoformat(timespec="seconds").replace("+00:00", "Z"),
            "to": [PUBLIC],
            "cc": [forum.followers_url or ""],
            "object": embedded,
        },
    )
