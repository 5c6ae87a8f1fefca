"""Live partner search (``live=true``): this instance's index and, at the same time, every
partner instance asked the same query at its query endpoint
(``{base_url}/groups/network/offers/search``, docs/federation.md), in one ranked list.

Each partner gets one GET signed as the instance actor, bounded by
``FEDI_LIVE_SEARCH_DEADLINE`` seconds; one that does not answer in time, or answers with an
error or no collection, is listed as failed with the reason, and its offers are absent; one on
a suspended domain is not asked. Each ``Page`` of an answer is read as a replica would be
(:func:`~fedi.partners.wire.read_offer_page`); malformed ones, and ones whose id or author is
not on the partner's host, are skipped. An offer already held here (a replica) counts once:
the stored one is the one ranked. Offers from answers are scored in memory
(:mod:`fedi.search.memory`) and ranked by the same :func:`~fedi.partners.search.rank_offer`,
so each has its reasons. Nothing of an answer is stored.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.actors.remote import instance_actor_auth
from fedi.blocks.service import domain_blocked
from fedi.db.models import Actor, ActorType, ContentObject, Offer, Peer
from fedi.instance import InstanceContext
from fedi.net.errors import FetchError, FetchTimeout, HttpStatusError
from fedi.net.urls import host_of
from fedi.partners.index import index_codes, index_texts
from fedi.partners.offers import OfferView, unstored_view
from fedi.partners.search import (
    OfferHit,
    PeerFailure,
    PeersAsked,
    Reader,
    SearchPage,
    order_hits,
    rank_offer,
    search_offers,
)
from fedi.partners.search_params import SearchParams, filter_groups, search_query
from fedi.partners.wire import MalformedOffer, WireOffer, read_offer_page
from fedi.search.memory import score_document

__all__ = ["MAX_ANSWER", "QUERY_PATH", "live_search", "query_url"]

# Where an instance of ours answers partner queries: under its network group (``{group}/offers/
# search``); a peer whose group is not known yet is asked under the default handle.
QUERY_PATH = "/groups/network/offers/search"
# The most offers one partner is asked for (the API's bound on ``limit``).
MAX_ANSWER = 100


@dataclass(frozen=True, slots=True)
class _Partner:
    host: str
    base_url: str
    network_uri: str | None = None

    def url(self, query: list[tuple[str, str]]) -> str:
        if self.network_uri is None:
            return query_url(self.base_url, query)
        return f"{self.network_uri}/offers/search?{urlencode(query)}"


@dataclass(frozen=True, slots=True)
class _Answer:
    """What one partner sent: the Pages read (each with its document and publication time),
    or why there is nothing."""

    partner: _Partner
    offers: list[tuple[WireOffer, dict[str, Any], datetime]]
    failure: str | None = None


def query_url(base_url: str, query: list[tuple[str, str]]) -> str:
    """The URL of the query endpoint of the instance at ``base_url`` for ``query``."""
    return f"{base_url.rstrip('/')}{QUERY_PATH}?{urlencode(query)}"


async def _partners(session: AsyncSession) -> list[_Partner]:
    """The partner peers to ask: those with a base URL, less those on a suspended domain."""
    rows = await session.execute(
        select(Peer.host, Peer.base_url, Peer.network_uri)
        .where(Peer.partner.is_(True), Peer.base_url.is_not(None))
        .order_by(Peer.host)
    )
    found = [_Partner(host, base, network) for host, base, network in rows.all() if base]
    return [partner for partner in found if not await domain_blocked(session, partner.host)]


def _published(document: dict[str, Any]) -> datetime:
    """When the Page says it was published (UTC), or now when it does not say it readably."""
    raw = document.get("published")
    try:
        found = datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        found = None
    if found is None:
        return datetime.now(UTC)
    return found.astimezone(UTC) if found.tzinfo else found.replace(tzinfo=UTC)


def _read(partner: _Partner, document: dict[str, Any]) -> _Answer:
    items = document.get("orderedItems")
    if document.get("type") != "OrderedCollection" or not isinstance(items, list):
        return _Answer(partner, [], "not a collection of offers")
    offers = []
    for item in items:
        if not isinstance(item, dict):
            continue
        try:
            wire = read_offer_page(item)
        except MalformedOffer:
            continue
        try:
            same_host = host_of(wire.uri) == host_of(wire.author) == partner.host
        except FetchError:
            same_host = False
        if same_host:
            offers.append((wire, item, _published(item)))
    return _Answer(partner, offers)


async def _ask(
    ctx: InstanceContext, partner: _Partner, url: str, auth: Any, deadline: float
) -> _Answer:
    """One partner's answer to ``url``, or the reason it gave none within ``deadline``."""
    try:
        async with asyncio.timeout(deadline):
            fetched = await ctx.client.fetch_json(url, auth=auth)
    except (TimeoutError, FetchTimeout):
        return _Answer(partner, [], "timeout")
    except HttpStatusError as exc:
        return _Answer(partner, [], f"HTTP {exc.status}")
    except FetchError as exc:
        return _Answer(partner, [], exc.reason)
    return _read(partner, fetched.data)


def _author(stored: dict[str, Actor], uri: str, host: str) -> Actor:
    """The author as held here, or as an instance of ours names them (``.../users/name``)."""
    if uri in stored:
        return stored[uri]
    username = urlsplit(uri).path.rstrip("/").rsplit("/", 1)[-1] or uri
    return Actor(
        id=0, uri=uri, type=ActorType.PERSON, username=username, domain=host, display_name=""
    )


async def _answers_held(
    ctx: InstanceContext, answers: list[_Answer]
) -> tuple[set[str], dict[str, Actor]]:
    """Of the answered offers, those held here as offers (replicas), and the authors held."""
    uris = [wire.uri for answer in answers for wire, _d, _p in answer.offers]
    authors = [wire.author for answer in answers for wire, _d, _p in answer.offers]
    if not uris:
        return set(), {}
    async with ctx.sessions() as session:
        held = await session.scalars(
            select(ContentObject.uri)
            .join(Offer, Offer.object_id == ContentObject.id)
            .where(ContentObject.uri.in_(uris))
        )
        actors = await session.scalars(select(Actor).where(Actor.uri.in_(authors)))
        return set(held.all()), {actor.uri: actor for actor in actors.all()}


def _hit(view: OfferView, wanted: SearchParams, reader: Reader, today: date) -> OfferHit:
    data = view.data
    hit = score_document(
        q=wanted.q,
        filters=filter_groups(wanted.filters),
        ui_language=reader.language,
        texts=index_texts(data),
        language=data.language,
        codes=index_codes(view.offer, data),
    )
    score, why = rank_offer(view.offer, data.codes, hit, wanted.filters, reader, today)
    return OfferHit(view, score, why)


async def live_search(
    ctx: InstanceContext,
    wanted: SearchParams,
    *,
    reader: Reader,
    today: date,
    offset: int,
    limit: int,
) -> SearchPage:
    """One page (from ``offset``) of this instance's results for ``wanted`` merged with every
    partner instance's answer, ranked together; ``peers`` says who was asked and who answered."""
    async with ctx.sessions() as session:
        partners = await _partners(session)
        auth = await instance_actor_auth(ctx, session)
    query = [*search_query(wanted), ("limit", str(min(offset + limit, MAX_ANSWER)))]
    deadline = float(ctx.settings.live_search_deadline)

    async def local() -> SearchPage:
        async with ctx.sessions() as session:
            return await search_offers(
                session,
                q=wanted.q,
                filters=wanted.filters,
                reader=reader,
                today=today,
                sort=wanted.sort,
                bounds=wanted.bounds,
                offset=0,
                limit=offset + limit,
            )

    asks = [_ask(ctx, p, p.url(query), auth, deadline) for p in partners]
    own_task = asyncio.ensure_future(local())
    answers = list(await asyncio.gather(*asks))
    own = await own_task
    held, authors = await _answers_held(ctx, answers)
    seen = {hit.view.uri for hit in own.hits} | held
    extra = []
    for answer in answers:
        for wire, document, published in answer.offers:
            if wire.uri in seen:
                continue
            seen.add(wire.uri)
            view = unstored_view(
                wire.data,
                document=document,
                author=_author(authors, wire.author, answer.partner.host),
                status=wire.status,
                validated_by=wire.validated_by,
                published=published,
            )
            if wanted.bounds.keeps(view.offer, view.uri):
                extra.append(_hit(view, wanted, reader, today))
    hits = [*own.hits, *extra]
    order_hits(hits, wanted.sort)
    countries = Counter(dict(own.countries))
    countries.update(hit.view.offer.organisation_country for hit in extra)
    ranked = sorted(countries.items(), key=lambda item: (-item[1], item[0]))
    peers = PeersAsked(
        asked=[answer.partner.host for answer in answers],
        answered=[answer.partner.host for answer in answers if answer.failure is None],
        failed=[
            PeerFailure(answer.partner.host, answer.failure)
            for answer in answers
            if answer.failure is not None
        ],
    )
    return SearchPage(hits[offset : offset + limit], own.total + len(extra), ranked, peers)
