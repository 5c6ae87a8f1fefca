"""Allowlist-only federation: the inbox hears only allowed hosts, the outbox sends only to them."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.blocks.allowlist import add_allowed, set_allowlist_only
from fedi.db.models import Delivery, DeliveryState
from fedi.federation.delivery import SKIPPED_REASON
from fedi.federation.outbox import new_activity_id, publish
from fedi.federation.vocab import PUBLIC
from fedi.services.members import add_member
from fedi.settings import Settings
from fedi.testing.peers import FakeActor, InboxHarness, add_remote_follower, alice, bob
from fedi.web import create_app
from tests.federation.test_inbox_policy import AS2, follow, post


async def _send(h: InboxHarness, actor: FakeActor, name: str) -> tuple[int, str]:
    app = create_app(h.settings, context=h.ctx)
    body = json.dumps(follow(actor, name)).encode()
    headers = actor.sign(
        "POST", h.url("/inbox"), body, now=h.ctx.clock(), headers={"Content-Type": AS2}
    )
    answer = await post(app, "/inbox", body, headers)
    return answer.status_code, answer.text


async def _configure(h: InboxHarness, on: bool, *domains: str) -> None:
    async with h.ctx.sessions.begin() as session:
        await set_allowlist_only(session, on)
        for domain in domains:
            await add_allowed(session, domain)


async def test_with_the_mode_off_every_unblocked_host_is_heard(h: InboxHarness) -> None:
    await _configure(h, False, "alice.test")
    assert (await _send(h, bob(), "open"))[0] == 202


async def test_with_the_mode_on_only_allowed_hosts_are_heard(h: InboxHarness) -> None:
    await _configure(h, True, "alice.test")
    assert (await _send(h, alice(), "allowed"))[0] == 202
    before = await h.counts()
    status, text = await _send(h, bob(), "refused")
    assert status == 403 and "allowlist" in text
    assert await h.counts() == before
    assert not h.peers.fetched("bob.test")  # refused before any key fetch
    # Turned off again, the same host is heard.
    await _configure(h, False)
    assert (await _send(h, bob(), "later"))[0] == 202


async def test_a_parent_domain_on_the_allowlist_covers_its_subdomains(h: InboxHarness) -> None:
    await _configure(h, True, "test")
    assert (await _send(h, bob(), "parent"))[0] == 202


async def _publish(session: AsyncSession, settings: Settings) -> dict[str, tuple[Any, ...]]:
    anna = (await add_member(session, settings, "anna", "a long test password")).actor
    await add_remote_follower(session, anna, "it.test", "marco")
    await add_remote_follower(session, anna, "elsewhere.test", "eve")
    activity = {
        "id": new_activity_id(settings),
        "type": "Create",
        "actor": anna.uri,
        "to": [PUBLIC],
        "cc": [anna.followers_url],
        "object": {"id": f"{settings.base_url}/objects/1", "type": "Note", "content": "hi"},
    }
    await publish(session, anna, activity)
    rows = await session.execute(select(Delivery.host, Delivery.state, Delivery.last_error))
    return {host: (state, error) for host, state, error in rows}


async def test_deliveries_to_hosts_off_the_allowlist_are_marked_skipped(
    session: AsyncSession, settings: Settings
) -> None:
    await set_allowlist_only(session, True)
    await add_allowed(session, "it.test")
    assert await _publish(session, settings) == {
        "it.test": (DeliveryState.PENDING, None),
        "elsewhere.test": (DeliveryState.SKIPPED, SKIPPED_REASON),
    }


async def test_with_the_mode_off_every_delivery_is_queued(
    session: AsyncSession, settings: Settings
) -> None:
    await add_allowed(session, "it.test")
    assert await _publish(session, settings) == {
        "it.test": (DeliveryState.PENDING, None),
        "elsewhere.test": (DeliveryState.PENDING, None),
    }
