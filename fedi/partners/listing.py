"""Reading partner offers for their pages: one offer with its author, and the published ones,
newest first, a page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.db.models import Actor, ContentObject, Offer
from fedi.db.paging import Keyset, keyset_page
from fedi.errors import NotFoundError
from fedi.partners.fields import OfferData
from fedi.partners.offers import offer_data

__all__ = ["OfferView", "list_published", "view_offer"]


@dataclass(frozen=True)
class OfferView:
    """An offer as a page shows it: its fields, status and author."""

    id: int
    status: str
    data: OfferData
    author: Actor
    uri: str
    local: bool
    created: datetime
    updated: datetime
    awaiting_validation: bool
    validated_by: str | None


async def _view(
    session: AsyncSession, offer: Offer, row: ContentObject, author: Actor
) -> OfferView:
    return OfferView(
        id=offer.id,
        status=offer.status,
        data=await offer_data(session, offer),
        author=author,
        uri=row.uri,
        local=row.local,
        created=offer.created_at,
        updated=offer.updated_at,
        awaiting_validation=offer.awaiting_validation,
        validated_by=offer.validated_by if offer.validated else None,
    )


async def view_offer(session: AsyncSession, offer_id: int) -> OfferView:
    """The offer ``offer_id`` whatever its status (the page decides who may see it)."""
    found = (
        await session.execute(
            select(Offer, ContentObject, Actor)
            .join(ContentObject, ContentObject.id == Offer.object_id)
            .join(Actor, Actor.id == ContentObject.attributed_to_id)
            .where(Offer.id == offer_id)
        )
    ).first()
    if found is None:
        raise NotFoundError(f"no offer {offer_id}")
    return await _view(session, *found)


async def list_published(
    session: AsyncSession, *, limit: int, before: int | None = None
) -> Keyset[OfferView]:
    """One page of the published offers, newest first."""
    page = await keyset_page(
        session,
        select(Offer).where(Offer.status == "published"),
        Offer.id,
        limit=limit,
        before=before,
    )
    ids = [offer.object_id for offer in page.rows]
    found = {
        row.id: (row, author)
        for row, author in (
            await session.execute(
                select(ContentObject, Actor)
                .join(Actor, Actor.id == ContentObject.attributed_to_id)
                .where(ContentObject.id.in_(ids))
            )
        ).all()
    }
    views = [await _view(session, offer, *found[offer.object_id]) for offer in page.rows]
    return Keyset(views, page.total, page.next_before)
