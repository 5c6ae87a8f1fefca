"""The worker expires offers past their day, through its ordinary run."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

from sqlalchemy import select

from fedi.db.models import Activity, Offer, OfferChange
from fedi.federation.worker import Worker
from fedi.instance import build_context
from fedi.partners import offers as service
from fedi.services.members import add_member
from fedi.settings import Settings
from tests.partners.test_fields import offer_payload


async def test_the_worker_expires_offers_after_their_day(settings: Settings) -> None:
    context = build_context(settings)
    try:
        async with context.sessions.begin() as session:
            anna = (await add_member(session, settings, "anna", "a long test password")).actor
            offer = await service.create_offer(
                session,
                settings,
                anna,
                offer_payload(expires="2027-02-01"),
                today=date(2027, 1, 10),
            )
            offer_id = offer.id
        on_the_day = dataclasses.replace(
            context, clock=lambda: datetime(2027, 2, 1, 23, tzinfo=UTC)
        )
        await Worker(on_the_day).run_once()
        async with context.sessions.begin() as session:
            stored = await session.get(Offer, offer_id)
            assert stored is not None and stored.status == "published"
        after = dataclasses.replace(context, clock=lambda: datetime(2027, 2, 2, 1, tzinfo=UTC))
        await Worker(after).run_once()
        async with context.sessions.begin() as session:
            stored = await session.get(Offer, offer_id)
            assert stored is not None and stored.status == "expired"
            last = await session.scalar(
                select(OfferChange).order_by(OfferChange.id.desc()).limit(1)
            )
            assert last is not None and last.status_to == "expired" and last.actor_id is None
            types = (await session.scalars(select(Activity.type).order_by(Activity.id))).all()
            assert list(types)[-1] == "Update"
    finally:
        await context.aclose()
