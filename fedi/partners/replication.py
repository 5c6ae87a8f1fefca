"""Replicas: the offers of peer instances (``fedi peer add``), kept here so that one search
finds the offers of every peered network.

A peer's offer arrives as its author's ``Create`` or ``Update`` of a ``Page`` (to the network
group's followers, which our instance actor is), or in the peer's offers collection when we
synchronise (:mod:`fedi.peers.sync`). Either way the content object is stored first, by the
inbox's handlers or by the synchronisation, and :func:`keep_replica` then reads the Page's
structured fields (:func:`~fedi.partners.wire.read_offer_page`, the API's checks) into an
:class:`~fedi.db.models.Offer` row and the search index. Only a peer's offers become replicas:
a Page with our offer terms from any other server stays an ordinary post. An author who does not
consent to search (``indexable`` false, FEP-5feb) is kept out of the index. A ``Delete`` (or the
offer's absence from the peer's collection) withdraws the replica: :func:`drop_replica`.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.db.models import Actor, ContentObject, Offer, Peer
from fedi.partners.index import index_offer, unindex_offer
from fedi.partners.rows import fill_offer, offer_data, record_change, write_codes
from fedi.partners.saved_searches import alert_saved_searches
from fedi.partners.wire import MalformedOffer, is_offer_page, read_offer_page
from fedi.settings import Settings

__all__ = ["drop_replica", "is_offer_page", "is_peer", "keep_replica", "replicas_from"]


async def is_peer(session: AsyncSession, host: str) -> bool:
    """``host`` is an instance of ours this one is peered with."""
    found = await session.scalar(select(Peer.id).where(Peer.host == host, Peer.partner.is_(True)))
    return found is not None


async def keep_replica(
    session: AsyncSession,
    settings: Settings,
    row: ContentObject,
    document: dict[str, Any],
    *,
    now: datetime,
) -> str:
    """Create or bring up to date the replica of the peer's offer ``document``, stored as
    ``row``; the outcome for the log. A malformed Page keeps its content object and no replica
    (a replica it had is withdrawn, as its author no longer describes an offer we can read)."""
    offer = await session.scalar(select(Offer).where(Offer.object_id == row.id))
    try:
        wire = read_offer_page(document)
    except MalformedOffer as exc:
        if offer is not None:
            await drop_replica(session, row)
        return f"offer not replicated: {exc.reason}"
    author = await session.get(Actor, row.attributed_to_id)
    new = offer is None
    if offer is None:
        offer = Offer(object_id=row.id, status=wire.status, created_at=now)
        fill_offer(offer, wire.data)
        session.add(offer)
        await session.flush()
        fields: list[str] = []
        before = None
    else:
        old = asdict(await offer_data(session, offer))
        fields = [name for name, value in asdict(wire.data).items() if old.get(name) != value]
        before = offer.status
        fill_offer(offer, wire.data)
    offer.status = wire.status
    offer.validated, offer.validated_by = wire.validated_by is not None, wire.validated_by
    offer.updated_at = now
    await write_codes(session, offer, wire.data.codes)
    if new or fields or before != offer.status:
        status_to = offer.status if before != offer.status else None
        await record_change(session, offer, author, fields, before, status_to)
    if author is not None and author.indexable:
        await index_offer(session, offer, wire.data)
    else:
        await unindex_offer(session, offer)
    if new and offer.status == "published" and author is not None and author.indexable:
        await alert_saved_searches(session, settings, offer, row.uri, author=None)
    return "offer replicated" if new else "offer replica updated"


async def drop_replica(session: AsyncSession, row: ContentObject) -> bool:
    """Withdraw the replica of ``row`` (its Page deleted or gone from the peer's collection) and
    take it out of search; ``False`` when ``row`` is no replica or already withdrawn."""
    if row.local:
        return False
    offer = await session.scalar(select(Offer).where(Offer.object_id == row.id))
    if offer is None or offer.status == "withdrawn":
        return False
    before, offer.status = offer.status, "withdrawn"
    author = await session.get(Actor, row.attributed_to_id)
    await record_change(session, offer, author, [], before, "withdrawn")
    await unindex_offer(session, offer)
    return True


async def replicas_from(session: AsyncSession, host: str) -> list[ContentObject]:
    """The replicas of offers by authors on ``host`` that are neither deleted nor withdrawn."""
    rows = await session.scalars(
        select(ContentObject)
        .join(Offer, Offer.object_id == ContentObject.id)
        .join(Actor, Actor.id == ContentObject.attributed_to_id)
        .where(
            ContentObject.local.is_(False),
            ContentObject.deleted_at.is_(None),
            Actor.domain == host,
            Offer.status != "withdrawn",
        )
    )
    return list(rows)
