"""Publishing: store a local activity and its deliveries in one transaction (the outbox).

The caller builds the activity (``new_activity_id`` gives it an id); :func:`publish` strips
``bto``/``bcc``, stores it, works out the inboxes from its addressing and writes one delivery row
per inbox — one per shared inbox, not one per follower — in the caller's transaction. Nothing
leaves the process here: the delivery worker sends the rows once the transaction has committed, so
a crash before the commit sends nothing and a crash after it loses nothing.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.blocks.allowlist import split_by_allowlist
from fedi.blocks.service import without_blocked
from fedi.db.models import Activity, ActivityState, Actor, Follow, FollowState
from fedi.federation import delivery
from fedi.federation.vocab import first_id, ids_of, is_public
from fedi.log import request_id_var
from fedi.settings import Settings

__all__ = [
    "forward",
    "inboxes_for",
    "new_activity_id",
    "new_object_id",
    "public_activity",
    "publish",
]

_ADDRESS_FIELDS = ("to", "cc", "bto", "bcc", "audience")


def new_activity_id(settings: Settings) -> str:
    return f"{settings.base_url}/activities/{uuid.uuid4()}"


def new_object_id(settings: Settings) -> str:
    return f"{settings.base_url}/objects/{uuid.uuid4()}"


async def inboxes_for(session: AsyncSession, sender: Actor, document: dict[str, Any]) -> list[str]:
    """The remote inboxes an activity goes to, each once.

    The sender's followers collection expands to its accepted remote followers; a follower's shared
    inbox is used when it has one, so a server hosting many followers gets one request. Other
    recipients must be known actors (the caller resolves mentions first); local ones are skipped.
    """
    recipients = {ident for key in _ADDRESS_FIELDS for ident in ids_of(document.get(key))}
    inboxes: dict[str, None] = {}
    if sender.followers_url and sender.followers_url in recipients:
        recipients.discard(sender.followers_url)
        followers = await session.scalars(
            select(Actor)
            .join(Follow, Follow.follower_id == Actor.id)
            .where(
                Follow.followed_id == sender.id,
                Follow.state == FollowState.ACCEPTED,
                Actor.local.is_(False),
            )
            .order_by(Actor.id)
        )
        for follower in followers:
            inboxes[follower.shared_inbox or follower.inbox] = None
    if recipients:
        known = await session.scalars(
            select(Actor).where(Actor.uri.in_(recipients), Actor.local.is_(False))
        )
        for actor in known:
            # A direct recipient gets its personal inbox: some servers treat the two differently.
            inboxes[actor.inbox] = None
    return list(inboxes)


async def publish(
    session: AsyncSession,
    sender: Actor,
    document: dict[str, Any],
    *,
    inboxes: list[str] | None = None,
) -> Activity:
    """Store ``document`` (an activity with an ``id``) as sent by ``sender`` and queue its delivery.

    ``inboxes`` overrides the addressing (for example, an ``Accept`` goes to the follower's inbox).
    """
    targets = inboxes if inboxes is not None else await inboxes_for(session, sender, document)
    public_document = {k: v for k, v in document.items() if k not in ("bto", "bcc")}
    activity = Activity(
        uri=document["id"],
        type=str(document.get("type", "")),
        actor_id=sender.id,
        object_uri=first_id(document.get("object")),
        local=True,
        public=is_public(public_document),
        state=ActivityState.SENT,
        document=public_document,
        request_id=request_id_var.get(),
    )
    session.add(activity)
    await session.flush()
    await forward(session, activity, targets)
    return activity


async def forward(session: AsyncSession, activity: Activity, inboxes: list[str]) -> None:
    """Queue a stored local ``activity`` for ``inboxes`` too (those it is already queued for are
    skipped), under the same rules as :func:`publish`."""
    # Nothing is sent to a suspended domain (SECURITY.md rule 22 works both ways).
    targets = await without_blocked(session, inboxes)
    # In allowlist-only mode, hosts not on the allowlist get a row marked skipped, never sent.
    refused = (await split_by_allowlist(session, targets))[1]
    await delivery.enqueue(session, activity, targets, skipped=refused)


async def public_activity(session: AsyncSession, uri: str) -> dict[str, Any] | None:
    """The document of a public activity we sent, by its id."""
    return await session.scalar(
        select(Activity.document).where(
            Activity.uri == uri, Activity.local.is_(True), Activity.public.is_(True)
        )
    )
