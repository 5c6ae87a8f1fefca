"""The rows of an offer: its fields on ``offers``, its list fields on ``offer_codes`` and its
history on ``offer_changes``, written the same way for local offers and for replicas."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.db.models import Actor, Offer, OfferChange, OfferCode
from fedi.partners.fields import CODE_FIELDS, OfferData

__all__ = ["fill_offer", "offer_codes", "offer_data", "record_change", "write_codes"]


def fill_offer(offer: Offer, data: OfferData) -> None:
    org, fund = data.organisation, data.funding
    offer.purpose, offer.level, offer.language = data.purpose, data.level, data.language
    offer.title, offer.summary, offer.description = data.title, data.summary, data.description
    offer.translations = data.translations
    offer.organisation_name = str(org["name"])
    offer.organisation_type = str(org["type"])
    offer.organisation_country = str(org["country"])
    offer.organisation_region, offer.organisation_city = org["region"], org["city"]
    offer.partners_needed = data.partners_needed
    offer.funding_programme = fund["programme"]
    offer.funding_call_reference = fund["call_reference"]
    offer.call_deadline = data.call_deadline
    offer.planned_start = fund["planned_start"]
    offer.duration_months = fund["duration_months"]
    offer.budget_min, offer.budget_max = fund["budget_min"], fund["budget_max"]
    offer.currency = fund["currency"]
    offer.last_minute = data.last_minute
    offer.expires = data.expires or data.call_deadline


async def offer_codes(session: AsyncSession, offer: Offer) -> dict[str, list[str]]:
    """The list fields of ``offer``, each in the order given."""
    rows = await session.scalars(
        select(OfferCode).where(OfferCode.offer_id == offer.id).order_by(OfferCode.position)
    )
    codes: dict[str, list[str]] = {name: [] for name in CODE_FIELDS}
    for row in rows:
        codes.setdefault(row.field, []).append(row.code)
    return codes


async def offer_data(session: AsyncSession, offer: Offer) -> OfferData:
    """The stored fields of ``offer`` in the shape :func:`read_offer` returns."""
    return OfferData(
        purpose=offer.purpose,
        level=offer.level,
        language=offer.language,
        title=offer.title,
        summary=offer.summary,
        description=offer.description,
        translations=dict(offer.translations),
        codes=await offer_codes(session, offer),
        organisation={
            "name": offer.organisation_name,
            "type": offer.organisation_type,
            "country": offer.organisation_country,
            "region": offer.organisation_region,
            "city": offer.organisation_city,
        },
        partners_needed=offer.partners_needed,
        funding={
            "programme": offer.funding_programme,
            "call_reference": offer.funding_call_reference,
            "call_deadline": offer.call_deadline,
            "planned_start": offer.planned_start,
            "duration_months": offer.duration_months,
            "budget_min": offer.budget_min,
            "budget_max": offer.budget_max,
            "currency": offer.currency,
        },
        last_minute=offer.last_minute,
        expires=offer.expires,
    )


async def write_codes(session: AsyncSession, offer: Offer, codes: dict[str, list[str]]) -> None:
    await session.execute(delete(OfferCode).where(OfferCode.offer_id == offer.id))
    for name, values in codes.items():
        for position, code in enumerate(values):
            session.add(OfferCode(offer_id=offer.id, field=name, code=code, position=position))


async def record_change(
    session: AsyncSession,
    offer: Offer,
    actor: Actor | None,
    fields: list[str],
    status_from: str | None,
    status_to: str | None,
) -> None:
    session.add(
        OfferChange(
            offer_id=offer.id,
            actor_id=actor.id if actor is not None else None,
            fields=fields,
            status_from=status_from,
            status_to=status_to,
        )
    )
