"""Partner search: candidates from the index, ranked on what the index cannot see (overlap,
reciprocity, deadline, freshness, working language), each with the reasons it matched."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.db.models import Actor, Offer, Profile, utcnow
from fedi.partners import offers as service
from fedi.partners import policy
from fedi.partners.search import Reader, reader_of, search_offers
from fedi.partners.search_params import Bounds
from fedi.services import members
from fedi.settings import Settings
from tests.partners.test_fields import offer_payload

TODAY = utcnow().date()


@pytest.fixture(autouse=True)
def validation_off() -> Iterator[None]:
    policy.set_validation_override(False)
    yield
    policy.set_validation_override(None)


async def _offer(
    session: AsyncSession, settings: Settings, author: Actor, days: int = 90, **changes: Any
) -> Offer:
    funding = {**offer_payload()["funding"], "call_deadline": (TODAY + timedelta(days)).isoformat()}
    payload = offer_payload(funding=funding, translations={}, **changes)
    return await service.create_offer(session, settings, author, payload, today=TODAY)


async def _titles(session: AsyncSession, **kwargs: Any) -> list[str]:
    kwargs.setdefault("reader", Reader())
    kwargs.setdefault("q", "")
    kwargs.setdefault("filters", {})
    found = await search_offers(session, today=TODAY, **kwargs)
    assert found.total >= len(found.hits)
    return [hit.view.data.title for hit in found.hits]


async def test_reciprocity_deadline_and_language_rank_offers_and_say_why(
    session: AsyncSession, settings: Settings
) -> None:
    anna = (await members.add_member(session, settings, "anna", "long enough password")).actor
    await _offer(session, settings, anna, title="Anywhere", countries_sought=[])
    await _offer(session, settings, anna, title="Seeks Italy", countries_sought=["IT"])
    await _offer(
        session, settings, anna, days=12, title="Closing soon", countries_sought=["ES"],
        working_languages=["pl"],
    )  # fmt: skip
    reader = Reader(country="IT", language="en")
    found = await search_offers(session, q="", filters={}, reader=reader, today=TODAY)
    hits = found.hits
    assert found.total == 3 and found.countries == [("PL", 3)]
    titles = [hit.view.data.title for hit in hits]
    assert titles[0] == "Seeks Italy"
    why = {hit.view.data.title: [r.code for r in hit.why] for hit in hits}
    assert why["Seeks Italy"] == ["reciprocity", "freshness", "language"]
    assert "deadline" in why["Closing soon"] and "language" not in why["Closing soon"]
    closing = next(hit for hit in hits if hit.view.data.title == "Closing soon")
    assert next(r for r in closing.why if r.code == "deadline").days == 12
    # A reader from Spain: the offer seeking Spain comes first, the Italian one loses its lead.
    spain = await _titles(session, reader=Reader(country="ES"))
    assert spain[0] == "Closing soon"
    assert await _titles(session, sort="deadline") == ["Closing soon", "Anywhere", "Seeks Italy"]


async def test_filters_and_bounds_narrow_and_overlap_counts(
    session: AsyncSession, settings: Settings
) -> None:
    anna = (await members.add_member(session, settings, "anna", "long enough password")).actor
    both = await _offer(session, settings, anna, title="Both", objectives=["a", "h"])
    await _offer(session, settings, anna, days=200, title="Only a", objectives=["a"])
    assert await _titles(session, filters={"objective": ["h"]}) == ["Both"]
    hits = (
        await search_offers(
            session, q="", filters={"objective": ["a", "h"]}, reader=Reader(), today=TODAY
        )
    ).hits
    assert [hit.view.data.title for hit in hits] == ["Both", "Only a"]
    assert [r.value for r in hits[0].why if r.code == "objective"] == ["a", "h"]
    assert await _titles(session, bounds=Bounds(deadline_after=TODAY + timedelta(100))) == [
        "Only a"
    ]
    assert await _titles(session, bounds=Bounds(deadline_before=TODAY + timedelta(100))) == ["Both"]
    assert await _titles(session, bounds=Bounds(validated=True)) == []
    assert await _titles(session, bounds=Bounds(origins=frozenset({"elsewhere.test"}))) == []
    host = settings.base_url.split("//", 1)[1].split(":")[0]
    assert len(await _titles(session, bounds=Bounds(origins=frozenset({host})))) == 2
    await service.set_status(session, settings, anna, both.id, "filled", today=TODAY)
    assert await _titles(session) == ["Only a"]
    assert await _titles(session, filters={"status": ["filled"]}) == ["Both"]
    with pytest.raises(ValueError, match="unknown filters"):
        await _titles(session, filters={"colour": ["red"]})


async def test_a_query_in_another_language_finds_the_offer_through_a_label(
    session: AsyncSession, settings: Settings
) -> None:
    anna = (await members.add_member(session, settings, "anna", "long enough password")).actor
    await _offer(session, settings, anna, title="Praca", themes=["migrant-integration"])
    hits = (
        await search_offers(
            session, q="integrazione dei migranti", filters={}, reader=Reader(), today=TODAY
        )
    ).hits
    assert [hit.view.data.title for hit in hits] == ["Praca"]
    [reason] = [r for r in hits[0].why if r.code == "theme"]
    assert reason.value == "migrant-integration" and reason.language == "it"


async def test_the_reader_is_read_from_the_profile(
    session: AsyncSession, settings: Settings
) -> None:
    member = await members.add_member(session, settings, "anna", "long enough password")
    session.add(
        Profile(member_id=member.id, organisation="", languages=[], themes=[], objectives=[],
                country="DE")
    )  # fmt: skip
    await session.flush()
    assert await reader_of(session, member.id, "de") == Reader(country="DE", language="de")
    assert await reader_of(session, None, "pl") == Reader(country=None, language="pl")
