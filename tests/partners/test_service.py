from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.db.models import Activity, ContentObject, Delivery, OfferChange, OfferCode
from fedi.errors import ConflictError, ValidationError
from fedi.partners import offers as service
from fedi.partners import policy
from fedi.services import forums, members
from fedi.settings import Settings
from fedi.testing.peers import add_remote_follower
from tests.partners.test_fields import offer_payload

TODAY = date(2027, 1, 10)


@pytest.fixture
def validation_off() -> Iterator[None]:
    policy.set_validation_override(False)
    yield
    policy.set_validation_override(None)


async def _sent(session: AsyncSession) -> list[Activity]:
    rows = await session.scalars(
        select(Activity).where(Activity.local.is_(True)).order_by(Activity.id)
    )
    return [row for row in rows.all() if row.type in ("Create", "Update", "Delete")]


async def test_a_published_offer_federates_as_a_page_in_the_partner_forum(
    session: AsyncSession, settings: Settings, validation_off: None
) -> None:
    anna = (await members.add_member(session, settings, "anna", "long enough password")).actor
    await add_remote_follower(session, anna, "it.test", "reader")
    offer = await service.create_offer(session, settings, anna, offer_payload(), today=TODAY)
    assert offer.status == "published" and offer.expires == date(2027, 3, 31)
    forum = await forums.find_forum(session, settings, "partners")
    [create] = await _sent(session)
    assert create.type == "Create"
    page = create.document["object"]
    assert page["type"] == "Page" and page["audience"] == forum.uri
    assert page["name"] == "Mentoring dla młodzieży NEET"
    assert page["nameMap"]["en"] == "Mentoring for NEET youth"
    assert "<strong>mentoringu</strong>" in page["content"] and "<li>" in page["content"]
    assert page["url"] == page["id"]
    [delivery] = (await session.scalars(select(Delivery))).all()
    assert delivery.host == "it.test"
    row = await session.get(ContentObject, offer.object_id)
    assert row is not None and row.public and row.type == "Page"
    codes = await service.offer_codes(session, offer)
    assert codes["countries_sought"] == ["IT", "GR"]
    assert codes["objectives"] == ["h", "a"]
    themed = await session.scalars(
        select(OfferCode.offer_id).where(
            OfferCode.field == "themes", OfferCode.code == "social-inclusion"
        )
    )
    assert list(themed.all()) == [offer.id]


async def test_quality_faults_write_nothing(
    session: AsyncSession, settings: Settings, validation_off: None
) -> None:
    anna = (await members.add_member(session, settings, "anna", "long enough password")).actor
    payload = offer_payload(funding={"call_deadline": "2027-01-12"})
    with pytest.raises(ValidationError) as caught:
        await service.create_offer(session, settings, anna, payload, today=TODAY)
    assert list(caught.value.errors) == ["funding.call_deadline"]
    assert (await session.scalars(select(ContentObject))).all() == []
    draft = await service.create_offer(
        session, settings, anna, {**payload, "status": "draft"}, today=TODAY
    )
    assert draft.status == "draft" and await _sent(session) == []
    row = await session.get(ContentObject, draft.object_id)
    assert row is not None and not row.public


async def test_lifecycle_edit_filled_withdrawn_and_history(
    session: AsyncSession, settings: Settings, validation_off: None
) -> None:
    anna = (await members.add_member(session, settings, "anna", "long enough password")).actor
    bob = (await members.add_member(session, settings, "bob", "long enough password")).actor
    offer = await service.create_offer(session, settings, anna, offer_payload(), today=TODAY)
    await service.update_offer(
        session,
        settings,
        anna,
        offer.id,
        {"themes": ["social-innovation"], "funding": {"budget_max": 500000}},
        today=TODAY,
    )
    assert (await service.offer_codes(session, offer))["themes"] == ["social-innovation"]
    assert offer.budget_max == 500000
    with pytest.raises(ValidationError):
        await service.update_offer(
            session, settings, anna, offer.id, {"objectives": []}, today=TODAY
        )
    with pytest.raises(Exception, match="someone else"):
        await service.set_status(session, settings, bob, offer.id, "filled", today=TODAY)
    await service.set_status(session, settings, anna, offer.id, "filled", today=TODAY)
    await service.set_status(session, settings, anna, offer.id, "withdrawn", today=TODAY)
    with pytest.raises(ConflictError):
        await service.set_status(session, settings, anna, offer.id, "published", today=TODAY)
    assert [a.type for a in await _sent(session)] == ["Create", "Update", "Update", "Delete"]
    row = await session.get(ContentObject, offer.object_id)
    assert row is not None and row.deleted_at is not None
    changes = (
        await session.scalars(
            select(OfferChange).where(OfferChange.offer_id == offer.id).order_by(OfferChange.id)
        )
    ).all()
    assert [(c.status_from, c.status_to) for c in changes] == [
        (None, "draft"),
        ("draft", "published"),
        (None, None),
        ("published", "filled"),
        ("filled", "withdrawn"),
    ]
    assert changes[2].fields == ["funding", "themes"] and changes[2].actor_id == anna.id


async def test_offers_awaiting_validation_are_not_sent_until_validated(
    session: AsyncSession, settings: Settings
) -> None:
    policy.set_validation_override(True)
    try:
        anna = (await members.add_member(session, settings, "anna", "long enough password")).actor
        mod = (await members.add_member(session, settings, "mod", "long enough password")).actor
        offer = await service.create_offer(session, settings, anna, offer_payload(), today=TODAY)
        assert offer.status == "draft" and offer.awaiting_validation
        assert await _sent(session) == []
        await service.validate_offer(session, settings, mod, offer.id, network="ESF PL")
        assert offer.status == "published" and offer.validated_by == "ESF PL"
        assert [a.type for a in await _sent(session)] == ["Create"]
    finally:
        policy.set_validation_override(None)


async def test_expiry_marks_passed_offers_and_sends_an_update(
    session: AsyncSession, settings: Settings, validation_off: None
) -> None:
    anna = (await members.add_member(session, settings, "anna", "long enough password")).actor
    offer = await service.create_offer(
        session, settings, anna, offer_payload(expires="2027-02-01"), today=TODAY
    )
    assert await service.expire_due(session, settings, today=date(2027, 2, 1)) == 0
    assert await service.expire_due(session, settings, today=date(2027, 2, 2)) == 1
    assert offer.status == "expired"
    assert [a.type for a in await _sent(session)] == ["Create", "Update"]
    assert await service.expire_due(session, settings, today=date(2027, 2, 3)) == 0
