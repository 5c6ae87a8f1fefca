"""Saved searches: kept with checked parameters, one member's own, and an alert for each new
offer that matches (never for the member's own offer, never for one that does not match)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.db.models import Notification, utcnow
from fedi.errors import NotFoundError, ValidationError
from fedi.partners import offers, policy
from fedi.partners.saved_searches import (
    MAX_SAVED,
    delete_saved_search,
    find_by_feed_key,
    save_search,
    saved_searches_of,
)
from fedi.services import members
from fedi.settings import Settings
from tests.partners.test_fields import offer_payload

TODAY = utcnow().date()


@pytest.fixture(autouse=True)
def validation_off() -> Iterator[None]:
    policy.set_validation_override(False)
    yield
    policy.set_validation_override(None)


def _payload(**changes: object) -> dict[str, object]:
    funding = {**offer_payload()["funding"], "call_deadline": (TODAY + timedelta(60)).isoformat()}
    return offer_payload(funding=funding, **changes)


async def test_a_matching_new_offer_notifies_the_member_who_saved_the_search(
    session: AsyncSession, settings: Settings
) -> None:
    anna = await members.add_member(session, settings, "anna", "long enough password")
    bob = await members.add_member(session, settings, "bob", "long enough password")
    saved = await save_search(
        session, bob.id, "  Youth   mentoring ", {"q": ["mentoring"], "theme": ["social-inclusion"]}
    )
    assert saved.name == "Youth mentoring" and len(saved.feed_key) == 32
    own = await save_search(session, anna.id, "Mine", {"q": ["mentoring"]})
    other = await save_search(session, bob.id, "Economy", {"theme": ["social-economy"]})
    offer = await offers.create_offer(session, settings, anna.actor, _payload(), today=TODAY)
    told = (await session.scalars(select(Notification))).all()
    assert [(n.member_id, n.kind, n.data["search"]) for n in told] == [
        (bob.id, "saved_search", "Youth mentoring")
    ]
    assert told[0].data["offer"] == offer.id
    # Drafts and later updates alert nobody.
    await offers.create_offer(session, settings, anna.actor, {**_payload(), "status": "draft"},
                              today=TODAY)  # fmt: skip
    assert len((await session.scalars(select(Notification))).all()) == 1
    assert [s.name for s in await saved_searches_of(session, bob.id)] == [
        "Youth mentoring",
        "Economy",
    ]
    assert (await find_by_feed_key(session, other.feed_key)).id == other.id
    with pytest.raises(NotFoundError):
        await delete_saved_search(session, bob.id, own.id)
    await delete_saved_search(session, bob.id, other.id)
    assert [s.name for s in await saved_searches_of(session, bob.id)] == ["Youth mentoring"]


async def test_bad_searches_are_refused_with_every_fault(
    session: AsyncSession, settings: Settings
) -> None:
    bob = await members.add_member(session, settings, "bob", "long enough password")
    with pytest.raises(ValidationError) as caught:
        await save_search(session, bob.id, "", {"theme": ["nothing"], "deadline_after": ["x"]})
    assert set(caught.value.errors) == {"name", "theme", "deadline_after"}
    assert await saved_searches_of(session, bob.id) == []
    for n in range(MAX_SAVED):
        await save_search(session, bob.id, f"Search {n}", {})
    with pytest.raises(ValidationError, match="at most"):
        await save_search(session, bob.id, "One too many", {})
