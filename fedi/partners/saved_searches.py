"""Saved partner searches: a member keeps a search's parameters under a name, is told when a new
offer matches it (published here or replicated from a peer), and may follow it as a feed.

A new offer is matched against each saved search by asking the index the saved query with one
more filter, the offer itself (:func:`~fedi.partners.index.only_code`): the same reduction,
labels and filters as the search, so an alert never disagrees with the results page.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.db.models import Offer, SavedSearch
from fedi.errors import NotFoundError, ValidationError
from fedi.partners.index import KIND, only_code
from fedi.partners.search_params import SearchParams, filter_groups, read_search
from fedi.search import index as search_index
from fedi.services.notifications import notify
from fedi.settings import Settings

__all__ = [
    "MAX_NAME",
    "MAX_SAVED",
    "alert_saved_searches",
    "delete_saved_search",
    "find_by_feed_key",
    "save_search",
    "saved_searches_of",
    "wanted",
]

MAX_NAME = 100
# How many searches one member may keep.
MAX_SAVED = 50
# Parameters about one page of results, not the search.
_PAGING = frozenset({"limit", "cursor", "start", "format"})


def _name(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("must not be empty", field="name")
    name = " ".join(value.split())
    if len(name) > MAX_NAME:
        raise ValidationError(f"must be at most {MAX_NAME} characters", field="name")
    if any(ord(c) < 32 or 0xD800 <= ord(c) <= 0xDFFF for c in value):
        raise ValidationError("must not contain control characters", field="name")
    return name


def wanted(saved: SavedSearch) -> SearchParams:
    """The search ``saved`` stands for (its parameters read again, as when it was saved)."""
    return read_search(saved.query)


async def save_search(
    session: AsyncSession, member_id: int, name: object, params: Mapping[str, Sequence[str]]
) -> SavedSearch:
    """Keep the search ``params`` (each name to its values, as the search reads them) for
    ``member_id`` under ``name``; a :class:`ValidationError` naming each fault."""
    query = {key: list(values) for key, values in params.items() if key not in _PAGING and values}
    errors: dict[str, list[str]] = {}
    try:
        clean = _name(name)
    except ValidationError as error:
        errors.update(error.errors)
    try:
        read_search(query)
    except ValidationError as error:
        errors.update(error.errors)
    if errors:
        first, messages = next(iter(errors.items()))
        raise ValidationError(f"{first}: {messages[0]}", errors=errors)
    count = await session.scalar(
        select(func.count()).select_from(SavedSearch).where(SavedSearch.member_id == member_id)
    )
    if (count or 0) >= MAX_SAVED:
        raise ValidationError(f"at most {MAX_SAVED} saved searches", field="name")
    row = SavedSearch(member_id=member_id, name=clean, query=query, feed_key=secrets.token_hex(16))
    session.add(row)
    await session.flush()
    return row


async def saved_searches_of(session: AsyncSession, member_id: int) -> list[SavedSearch]:
    """A member's saved searches, oldest first."""
    rows = await session.scalars(
        select(SavedSearch).where(SavedSearch.member_id == member_id).order_by(SavedSearch.id)
    )
    return list(rows.all())


async def delete_saved_search(session: AsyncSession, member_id: int, search_id: int) -> None:
    """Forget search ``search_id`` of ``member_id``; NotFoundError when it is not theirs."""
    done = await session.execute(
        delete(SavedSearch).where(SavedSearch.id == search_id, SavedSearch.member_id == member_id)
    )
    if not getattr(done, "rowcount", 0):
        raise NotFoundError("no such saved search")


async def find_by_feed_key(session: AsyncSession, key: str) -> SavedSearch:
    row = await session.scalar(select(SavedSearch).where(SavedSearch.feed_key == key))
    if row is None:
        raise NotFoundError("no such feed")
    return row


async def alert_saved_searches(
    session: AsyncSession, settings: Settings, offer: Offer, uri: str, *, author: int | None
) -> int:
    """Notify every member (but the offer's ``author``, a member id) whose saved search the
    newly published ``offer`` (ActivityPub id ``uri``) matches; how many were told."""
    told = 0
    for saved in (await session.scalars(select(SavedSearch).order_by(SavedSearch.id))).all():
        if saved.member_id == author:
            continue
        try:
            search = wanted(saved)
        except ValidationError:
            continue  # a vocabulary changed since; the search page will say what
        if not search.bounds.keeps(offer, uri):
            continue
        groups = [*filter_groups(search.filters), {only_code(offer.id)}]
        found = await search_index.search(session, kind=KIND, q=search.q, filters=groups, limit=1)
        if found.hits:
            await notify(
                session,
                settings,
                saved.member_id,
                "saved_search",
                object_uri=uri,
                data={
                    "search": saved.name,
                    "search_id": saved.id,
                    "offer": offer.id,
                    "title": offer.title,
                },
            )
            told += 1
    return told
