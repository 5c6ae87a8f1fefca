"""The network group boosts what the instance starts (experiences, offers, top-level posts), never
replies or posts that are not public, and its followers get the author's later Update and Delete
of what it boosted; on both databases."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.actors.local import ensure_instance_actors, local_actor
from fedi.content.experiences.service import (
    create_experience,
    delete_experience,
    update_experience,
)
from fedi.db.models import Activity, Actor, Delivery
from fedi.federation.vocab import PUBLIC
from fedi.partners import offers, policy
from fedi.services import members
from fedi.services.publishing import publish_object
from fedi.settings import Settings
from fedi.testing.peers import add_remote_follower
from tests.partners.test_fields import offer_payload

TODAY = date(2027, 1, 10)

EXPERIENCE: dict[str, Any] = {
    "language": "en",
    "title": "Mentoring young migrants",
    "body": "Mentors met every week.",
    "country": "PL",
    "objectives": ["a"],
    "themes": ["migrant-integration"],
    "target_groups": ["youth-neet"],
}


async def _setup(session: AsyncSession, settings: Settings) -> tuple[Actor, Actor, Actor]:
    """anna, the network group, and mastodon.test's reader following the network (not anna)."""
    await ensure_instance_actors(session, settings)
    anna = (await members.add_member(session, settings, "anna", "a long test password")).actor
    network = await local_actor(session, settings, settings.network_handle)
    assert network is not None
    reader = await add_remote_follower(session, network, "mastodon.test", "reader")
    return anna, network, reader


async def _announces(session: AsyncSession, network: Actor) -> list[Activity]:
    return list(
        await session.scalars(
            select(Activity)
            .where(Activity.actor_id == network.id, Activity.type == "Announce")
            .order_by(Activity.id)
        )
    )


async def _inboxes(session: AsyncSession, activity_uri: str) -> set[str]:
    rows = await session.scalars(
        select(Delivery.inbox)
        .join(Activity, Activity.id == Delivery.activity_id)
        .where(Activity.uri == activity_uri)
    )
    return set(rows)


async def test_an_experience_is_announced_and_its_update_and_delete_follow(
    session: AsyncSession, settings: Settings
) -> None:
    anna, network, reader = await _setup(session, settings)
    view = await create_experience(session, settings, anna, EXPERIENCE)
    [announce] = await _announces(session, network)
    assert announce.object_uri == view.uri and announce.public
    document = announce.document
    assert document["actor"] == network.uri and document["object"] == view.uri
    assert document["to"] == [PUBLIC] and document["cc"] == [network.followers_url]
    assert await _inboxes(session, announce.uri) == {reader.shared_inbox}

    await update_experience(session, settings, anna, view.key, {"title": "Mentoring, year two"})
    await delete_experience(session, settings, anna, view.key)
    for kind in ("Update", "Delete"):
        activity = await session.scalar(
            select(Activity).where(Activity.type == kind, Activity.actor_id == anna.id)
        )
        assert activity is not None
        # The reader follows the network, not anna, and still gets anna's own activity.
        assert reader.shared_inbox in await _inboxes(session, activity.uri)
    # Announced once: neither the Update nor the Delete is boosted again.
    assert len(await _announces(session, network)) == 1


async def test_replies_notes_and_non_public_posts_are_not_announced(
    session: AsyncSession, settings: Settings
) -> None:
    anna, network, reader = await _setup(session, settings)
    article = await publish_object(
        session, settings, anna, {"type": "Article", "name": "A guide", "content": "<p>Steps</p>"}
    )
    article_uri = article.document["object"]["id"]
    reply = await publish_object(
        session,
        settings,
        anna,
        {"type": "Page", "name": "Re", "content": "<p>Yes</p>", "inReplyTo": article_uri},
    )
    await publish_object(session, settings, anna, {"type": "Note", "content": "<p>Hello</p>"})
    await publish_object(
        session,
        settings,
        anna,
        {"type": "Article", "name": "Only mine", "content": "<p>x</p>", "to": [anna.followers_url]},
    )
    assert [a.object_uri for a in await _announces(session, network)] == [article_uri]
    # An Update of something never announced is not sent to the network's followers.
    assert reader.shared_inbox not in await _inboxes(session, reply.uri)


async def test_without_followers_the_announce_is_kept_but_sent_nowhere(
    session: AsyncSession, settings: Settings
) -> None:
    await ensure_instance_actors(session, settings)
    anna = (await members.add_member(session, settings, "anna", "a long test password")).actor
    network = await local_actor(session, settings, settings.network_handle)
    assert network is not None
    view = await create_experience(session, settings, anna, EXPERIENCE)
    [announce] = await _announces(session, network)
    assert announce.object_uri == view.uri
    assert await _inboxes(session, announce.uri) == set()


async def test_a_published_offer_is_announced_and_its_withdrawal_reaches_the_followers(
    session: AsyncSession, settings: Settings
) -> None:
    policy.set_validation_override(False)
    try:
        anna, network, reader = await _setup(session, settings)
        offer = await offers.create_offer(session, settings, anna, offer_payload(), today=TODAY)
        uri = (await offers.view_of(session, offer)).row.uri
        [announce] = await _announces(session, network)
        assert announce.object_uri == uri
        assert await _inboxes(session, announce.uri) == {reader.shared_inbox}
        await offers.set_status(session, settings, anna, offer.id, "withdrawn", today=TODAY)
        delete = await session.scalar(
            select(Activity).where(Activity.type == "Delete", Activity.actor_id == anna.id)
        )
        assert delete is not None and delete.object_uri == uri
        assert await _inboxes(session, delete.uri) == {reader.shared_inbox}
    finally:
        policy.set_validation_override(None)
