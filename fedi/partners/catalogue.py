"""The network's offers collection: every public offer of this instance, as the ``Page`` its id
serves, for peers that synchronise (``GET /groups/network/offers``, docs/federation.md).

Published, filled and expired offers are listed (a peer keeps each with its status); drafts,
offers awaiting validation and withdrawn ones are not, so a peer that misses a ``Delete`` drops
the offer when it no longer finds it here. Pages are cut by the offer's row id, oldest first, so
that an offer published while a peer reads the collection is found on a later page and none is
skipped or listed twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.db.models import ContentObject, Offer

__all__ = ["LISTED", "CataloguePage", "catalogue_page", "catalogue_size"]

LISTED = ("published", "filled", "expired")


@dataclass(frozen=True, slots=True)
class CataloguePage:
    """The Pages of one page of the collection, and the row id to continue after (``None``
    on the last page)."""

    items: list[dict[str, Any]]
    next_after: int | None


def _listed() -> Any:
    return (
        select(Offer.id, ContentObject.document)
        .join(ContentObject, ContentObject.id == Offer.object_id)
        .where(
            ContentObject.local.is_(True),
            ContentObject.public.is_(True),
            ContentObject.deleted_at.is_(None),
            Offer.status.in_(LISTED),
            Offer.awaiting_validation.is_(False),
        )
    )


async def catalogue_size(session: AsyncSession) -> int:
    total = await session.scalar(select(func.count()).select_from(_listed().subquery()))
    return int(total or 0)


async def catalogue_page(session: AsyncSession, *, after: int, limit: int) -> CataloguePage:
    """At most ``limit`` offers whose row id is past ``after``."""
    rows = (
        await session.execute(_listed().where(Offer.id > after).order_by(Offer.id).limit(limit + 1))
    ).all()
    items = [_without_context(document) for _, document in rows[:limit]]
    next_after = rows[limit - 1][0] if len(rows) > limit else None
    return CataloguePage(items, next_after)


def _without_context(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key != "@context"}
