"""Replicas of a peer's offers (:mod:`fedi.partners.replication`): kept with every field and
searchable, brought up to date, withdrawn; an author who does not consent to search is kept out
of the index; a malformed Page keeps no replica; only a peer's Pages are replicas."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.content import service as content
from fedi.db.models import ContentObject, Offer, OfferChange, Peer
from fedi.federation.shapes import read_object
from fedi.partners.index import KIND
from fedi.partners.offers import offer_codes
from fedi.partners.replication import drop_replica, is_peer, keep_replica
from fedi.search import index as search_index
from fedi.settings import Settings
from fedi.testing.peers import remote_actor_row
from tests.partners.test_wire import _page

NOW = datetime(2027, 1, 10, 12, tzinfo=UTC)


async def _stored(
    session: AsyncSession, *, indexable: bool = True, **changes: object
) -> tuple[ContentObject, dict[str, Any]]:
    author = remote_actor_row("pl.test", "anna")
    author.indexable = indexable
    session.add_all([author, Peer(host="pl.test", partner=True)])
    await session.flush()
    page = _page(**changes)
    row = content.create(session, read_object(page), page, author_id=author.id, local=False)
    await session.flush()
    return row, page


async def _found(session: AsyncSession, q: str) -> list[int]:
    hits = await search_index.search(session, kind=KIND, q=q, filters=[], limit=10)
    return [hit.ref for hit in hits.hits]


async def test_a_peers_offer_is_kept_whole_searchable_updated_and_withdrawn(
    session: AsyncSession, settings: Settings
) -> None:
    assert not await is_peer(session, "pl.test")
    row, page = await _stored(session)
    assert await is_peer(session, "pl.test")
    assert await keep_replica(session, settings, row, page, now=NOW) == "offer replicated"
    offer = await session.scalar(select(Offer).where(Offer.object_id == row.id))
    assert offer is not None and offer.status == "published"
    assert offer.validated and offer.validated_by == "ESF PL"
    assert offer.organisation_country == "PL" and offer.funding_programme == "ESF+ PL FERS"
    assert (await offer_codes(session, offer))["countries_sought"] == ["IT", "GR"]
    assert await _found(session, "mentoring") == [offer.id]

    changed = {**page, "offerStatus": "filled", "name": "Mentoring, partners found"}
    outcome = await keep_replica(session, settings, row, changed, now=NOW)
    assert outcome == "offer replica updated"
    assert offer.status == "filled" and offer.title == "Mentoring, partners found"
    history = (await session.scalars(select(OfferChange).order_by(OfferChange.id))).all()
    assert [(c.status_from, c.status_to) for c in history] == [
        (None, "published"),
        ("published", "filled"),
    ]
    assert "title" in history[-1].fields

    assert await drop_replica(session, row)
    assert offer.status == "withdrawn" and await _found(session, "mentoring") == []
    assert not await drop_replica(session, row)  # once


async def test_an_author_who_does_not_consent_to_search_is_kept_out_of_the_index(
    session: AsyncSession, settings: Settings
) -> None:
    row, page = await _stored(session, indexable=False)
    await keep_replica(session, settings, row, page, now=NOW)
    offer = await session.scalar(select(Offer).where(Offer.object_id == row.id))
    assert offer is not None and offer.status == "published"
    assert await _found(session, "mentoring") == []


async def test_a_malformed_page_keeps_no_replica(session: AsyncSession, settings: Settings) -> None:
    row, page = await _stored(session)
    await keep_replica(session, settings, row, page, now=NOW)
    broken = {**page, "esfObjectives": ["not-an-objective"]}
    outcome = await keep_replica(session, settings, row, broken, now=NOW)
    assert outcome.startswith("offer not replicated: objectives")
    offer = await session.scalar(select(Offer).where(Offer.object_id == row.id))
    assert offer is not None and offer.status == "withdrawn"
    assert await _found(session, "mentoring") == []
