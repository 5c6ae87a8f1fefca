"""Partner search: the indexed offers a query and its filters select, ranked, each with the
reasons it ranks where it does.

The index (:mod:`fedi.search`) finds the candidates: every word of the query in any EU
language, or a vocabulary label it spells, and one code of every filter. Each candidate is then
scored on what the index cannot see (weights in :data:`WEIGHTS`):

- ``relevance``: the index's own score (text relevance and the labels the query named);
- ``overlap``: the share of the objectives, themes and target groups asked for that it has;
- ``reciprocity``: it seeks partners in the reader's country, or the reader seeks partners
  in its country (``countries_sought``) and it is open to any country;
- ``urgency``: its call deadline is near (within :data:`URGENT_DAYS`);
- ``freshness``: it was published recently (within :data:`FRESH_DAYS`);
- ``language``: the reader's language is one of its working languages.

Each part that counted becomes a :class:`Reason` (a code and the facts behind it); the pages
and the API turn reasons into sentences in the reader's language.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.db.models import ContentObject, Offer, OfferCode, Profile
from fedi.partners.index import FILTERS, KIND
from fedi.partners.offers import OfferView, view_of
from fedi.partners.search_params import Bounds, filter_groups
from fedi.search import index as search_index

__all__ = [
    "FRESH_DAYS",
    "MAX_CANDIDATES",
    "URGENT_DAYS",
    "WEIGHTS",
    "OfferHit",
    "PeerFailure",
    "PeersAsked",
    "Reader",
    "Reason",
    "SearchPage",
    "order_hits",
    "rank_offer",
    "reader_of",
    "search_offers",
]

WEIGHTS = {
    "relevance": 0.5,
    "overlap": 0.15,
    "reciprocity": 0.15,
    "urgency": 0.1,
    "freshness": 0.05,
    "language": 0.05,
}
URGENT_DAYS = 30
FRESH_DAYS = 14
# How many candidates a search ranks at most; a page is cut from them.
MAX_CANDIDATES = 1000
T = TypeVar("T")
# The filters whose codes count towards ``overlap``, and the offer field each reads.
_OVERLAP = {"objective": "objectives", "theme": "themes", "target_group": "target_groups"}


@dataclass(frozen=True, slots=True)
class Reader:
    """Who searches: their country and language, when known (for reciprocity and language)."""

    country: str | None = None
    language: str | None = None


async def reader_of(session: AsyncSession, member_id: int | None, language: str | None) -> Reader:
    """The reader signed in as ``member_id`` (their profile's country), reading ``language``."""
    profile = None if member_id is None else await session.get(Profile, member_id)
    return Reader(country=profile.country if profile else None, language=language)


@dataclass(frozen=True, slots=True)
class Reason:
    """Why an offer matched: ``code`` (``text``, ``objective``, ``theme``, ``target_group``,
    ``country``, ``reciprocity``, ``deadline``, ``language``, ``freshness``) and its facts:
    ``terms`` for text, ``vocabulary``/``value`` for a code (``label`` and ``language`` when a
    label of the query named it; ``sought`` for a country the offer seeks partners in),
    ``days`` for the deadline and freshness."""

    code: str
    terms: tuple[str, ...] = ()
    vocabulary: str = ""
    value: str = ""
    label: str = ""
    language: str = ""
    days: int = 0
    sought: bool = False


@dataclass(frozen=True, slots=True)
class OfferHit:
    view: OfferView
    score: float
    why: list[Reason] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class PeerFailure:
    """A partner instance asked by a live search that gave no answer, and why (``timeout``,
    ``HTTP 500``, ...)."""

    host: str
    reason: str


@dataclass(frozen=True, slots=True)
class PeersAsked:
    """The partner instances a live search asked (hosts), those that answered, those that
    did not; all empty for a search of this instance's index alone."""

    asked: list[str] = field(default_factory=list)
    answered: list[str] = field(default_factory=list)
    failed: list[PeerFailure] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SearchPage:
    """One page of results, how many matched, and how many of those come from each country
    (the proposer's; most first); ``peers``: who a live search asked."""

    hits: list[OfferHit]
    total: int
    countries: list[tuple[str, int]]
    peers: PeersAsked = field(default_factory=PeersAsked)


@dataclass(slots=True)
class _Candidate:
    offer: Offer
    codes: dict[str, list[str]]
    score: float
    why: list[Reason]


async def _codes(session: AsyncSession, refs: list[int]) -> dict[int, dict[str, list[str]]]:
    found: dict[int, dict[str, list[str]]] = {ref: {} for ref in refs}
    rows = await session.execute(
        select(OfferCode.offer_id, OfferCode.field, OfferCode.code)
        .where(OfferCode.offer_id.in_(refs))
        .order_by(OfferCode.offer_id, OfferCode.position)
    )
    for offer_id, name, code in rows:
        found[offer_id].setdefault(name, []).append(code)
    return found


def rank_offer(
    offer: Offer,
    codes: dict[str, list[str]],
    hit: search_index.Hit,
    filters: Mapping[str, Collection[str]],
    reader: Reader,
    today: date,
) -> tuple[float, list[Reason]]:
    """The score of ``offer`` (its list fields ``codes``, its index ``hit``) for ``filters``
    and ``reader`` on ``today``, and the reasons behind it."""
    why: list[Reason] = []
    if hit.terms:
        why.append(Reason("text", terms=hit.terms))
    for match in hit.codes:
        reason = {"objectives": "objective", "themes": "theme", "target-groups": "target_group"}
        if match.vocabulary in reason:
            why.append(
                Reason(
                    reason[match.vocabulary],
                    vocabulary=match.vocabulary,
                    value=match.code,
                    label=match.label,
                    language=match.language,
                )
            )
    asked = [(name, code) for name in _OVERLAP for code in filters.get(name, ())]
    had = [(name, code) for name, code in asked if code in codes.get(_OVERLAP[name], ())]
    why += [Reason(name, value=code) for name, code in had]
    if offer.organisation_country in filters.get("country", ()):
        why.append(Reason("country", value=offer.organisation_country))
    wanted_sought = filters.get("countries_sought", ())
    why += [
        Reason("country", value=code, sought=True)
        for code in codes.get("countries_sought", [])
        if code in wanted_sought
    ]
    sought = codes.get("countries_sought", [])
    reciprocal = reader.country is not None and reader.country in sought
    if reciprocal:
        why.append(Reason("reciprocity", value=str(reader.country)))
    days_left = (offer.call_deadline - today).days
    urgency = 1 - days_left / URGENT_DAYS if 0 <= days_left <= URGENT_DAYS else 0.0
    if urgency:
        why.append(Reason("deadline", days=days_left))
    age = (today - offer.created_at.date()).days
    freshness = 1 - age / FRESH_DAYS if 0 <= age <= FRESH_DAYS else 0.0
    if freshness:
        why.append(Reason("freshness", days=age))
    speaks = reader.language is not None and reader.language in codes.get("working_languages", [])
    if speaks:
        why.append(Reason("language", value=str(reader.language)))
    parts = {
        "relevance": hit.score,
        "overlap": len(had) / len(asked) if asked else 0.0,
        "reciprocity": 1.0 if reciprocal else 0.0,
        "urgency": urgency,
        "freshness": freshness,
        "language": 1.0 if speaks else 0.0,
    }
    return sum(WEIGHTS[name] * value for name, value in parts.items()), why


def _order(
    items: list[T], sort: str, offer_of: Callable[[T], Offer], score_of: Callable[[T], float]
) -> None:
    """Order ``items`` (each an offer and its score) by ``sort``, ties by the offer's id."""
    if sort == "newest":
        items.sort(key=lambda i: (offer_of(i).created_at, offer_of(i).id), reverse=True)
    elif sort == "deadline":
        items.sort(key=lambda i: (offer_of(i).call_deadline, offer_of(i).id))
    else:
        items.sort(key=lambda i: (-score_of(i), -offer_of(i).id))


def order_hits(hits: list[OfferHit], sort: str) -> None:
    """Order ``hits`` as :func:`search_offers` orders its candidates (an offer not stored
    here has the id 0)."""
    _order(hits, sort, lambda h: h.view.offer, lambda h: h.score)


async def search_offers(
    session: AsyncSession,
    *,
    q: str,
    filters: Mapping[str, Collection[str]],
    reader: Reader,
    today: date,
    sort: str = "relevance",
    bounds: Bounds | None = None,
    offset: int = 0,
    limit: int = 20,
    local_only: bool = False,
) -> SearchPage:
    """One page (from ``offset``) of the offers matching ``q`` and every filter of ``filters``
    (names of :data:`~fedi.partners.index.FILTERS` to codes, one of which an offer must have;
    ``status`` is ``published`` unless given) within ``bounds``, ordered by ``sort``; only
    this instance's own offers (no replicas) with ``local_only``."""
    unknown = set(filters) - set(FILTERS)
    if unknown:
        raise ValueError(f"unknown filters: {sorted(unknown)}")
    page = await search_index.search(
        session,
        kind=KIND,
        q=q,
        filters=filter_groups(filters),
        ui_language=reader.language,
        limit=MAX_CANDIDATES,
    )
    hits = {hit.ref: hit for hit in page.hits}
    query = (
        select(Offer, ContentObject.uri)
        .join(ContentObject, ContentObject.id == Offer.object_id)
        .where(Offer.id.in_(list(hits)))
    )
    if local_only:
        query = query.where(ContentObject.local.is_(True))
    rows = await session.execute(query)
    kept = bounds or Bounds()
    offers = [offer for offer, uri in rows.all() if kept.keeps(offer, uri)]
    codes = await _codes(session, [offer.id for offer in offers])
    candidates = []
    for offer in offers:
        score, why = rank_offer(offer, codes[offer.id], hits[offer.id], filters, reader, today)
        candidates.append(_Candidate(offer, codes[offer.id], score, why))
    _order(candidates, sort, lambda c: c.offer, lambda c: c.score)
    chosen = candidates[offset : offset + limit]
    hits_page = [OfferHit(await view_of(session, c.offer), c.score, c.why) for c in chosen]
    countries = Counter(c.offer.organisation_country for c in candidates)
    ranked = sorted(countries.items(), key=lambda item: (-item[1], item[0]))
    return SearchPage(hits_page, len(candidates), ranked)
