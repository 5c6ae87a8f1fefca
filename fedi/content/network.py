"""What the network group (``@network@host``) shares with its followers.

Following the network from Mastodon, Misskey or another instance of ours shows each public
experience, thread and partner offer started here, once, as the group's boost (``Announce`` of
the object's id, which every server fetches and shows readably), and never the replies, which stay
with their threads. The author's later ``Update`` and ``Delete`` of an announced object go to the
network's followers too, so that their copies are corrected or removed: servers apply an author's
``Update`` or ``Delete`` to an object they hold whoever it was addressed to, and a deleted object
takes its boosts with it.
"""

from __future__ import annotations

from typing import Any, TypeGuard

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.actors.local import local_actor
from fedi.db.models import Activity, Actor, utcnow
from fedi.federation.outbox import forward, inboxes_for, new_activity_id, publish
from fedi.federation.vocab import AS2_CONTEXT, PUBLIC, first_id
from fedi.settings import Settings

__all__ = ["SHARED_TYPES", "share_with_network"]

# Experiences are Articles; threads and partner offers are Pages. Notes are replies or chatter.
SHARED_TYPES = frozenset({"Article", "Page"})


async def share_with_network(session: AsyncSession, settings: Settings, activity: Activity) -> None:
    """Tell the network's followers about a member's just-published ``activity``: a public
    ``Create`` of a top-level Article or Page is announced; an ``Update`` or ``Delete`` of an
    object the network announced is sent to them as well. Anything else is left alone."""
    network = await local_actor(session, settings, settings.network_handle)
    if network is None or network.id == activity.actor_id:
        return
    document = activity.document
    kind = document.get("type")
    if kind == "Create":
        obj = document.get("object")
        if activity.public and _shared(obj):
            await _announce(session, settings, network, str(obj["id"]))
    elif kind in ("Update", "Delete"):
        object_uri = first_id(document.get("object"))
        if object_uri is not None and await _announced(session, network, object_uri):
            await forward(session, activity, await _follower_inboxes(session, network))


def _shared(obj: Any) -> TypeGuard[dict[str, Any]]:
    return (
        isinstance(obj, dict)
        and obj.get("type") in SHARED_TYPES
        and isinstance(obj.get("id"), str)
        and not obj.get("inReplyTo")
    )


async def _announce(
    session: AsyncSession, settings: Settings, network: Actor, object_uri: str
) -> None:
    announce = {
        "@context": AS2_CONTEXT,
        "id": new_activity_id(settings),
        "type": "Announce",
        "actor": network.uri,
        "published": utcnow().isoformat(timespec="seconds").replace("+00:00", "Z"),
        "to": [PUBLIC],
        "cc": [network.followers_url or ""],
        "object": object_uri,
    }
    await publish(session, network, announce)


async def _announced(session: AsyncSession, network: Actor, object_uri: str) -> bool:
    found = await session.scalar(
        select(Activity.id).where(
            Activity.actor_id == network.id,
            Activity.type == "Announce",
            Activity.object_uri == object_uri,
        )
    )
    return found is not None


async def _follower_inboxes(session: AsyncSession, network: Actor) -> list[str]:
    return await inboxes_for(session, network, {"cc": [network.followers_url]})
