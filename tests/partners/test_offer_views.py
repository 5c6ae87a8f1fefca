"""The offer views that the pages and the API share: the published offers, newest first, a page
at a time; one offer whatever its status."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.errors import NotFoundError
from fedi.partners import offers as service
from fedi.partners import policy
from fedi.services import members
from fedi.settings import Settings
from tests.partners.test_fields import offer_payload

TODAY = date(2027, 1, 10)


@pytest.fixture
def validation_off() -> Iterator[None]:
    policy.set_validation_override(False)
    yield
    policy.set_validation_override(None)


async def test_only_published_offers_are_listed_newest_first_in_pages(
    session: AsyncSession, settings: Settings, validation_off: None
) -> None:
    anna = (await members.add_member(session, settings, "anna", "long enough password")).actor
    first = await service.create_offer(session, settings, anna, offer_payload(), today=TODAY)
    draft = await service.create_offer(
        session, settings, anna, {**offer_payload(), "status": "draft"}, today=TODAY
    )
    second = await service.create_offer(
        session, settings, anna, offer_payload(title="Second"), today=TODAY
    )
    page = await service.list_offers(session, service.OfferFilters(), limit=1)
    assert [view.id for view in page.rows] == [second.id] and page.total == 2
    assert page.rows[0].data.title == "Second" and page.rows[0].author.id == anna.id
    rest = await service.list_offers(
        session, service.OfferFilters(), limit=1, before=page.next_before
    )
    assert [view.id for view in rest.rows] == [first.id] and rest.next_before is None
    shown = await service.view_offer(session, draft.id)
    assert shown.status == "draft" and shown.data.codes["objectives"] == ["h", "a"]
    with pytest.raises(NotFoundError):
        await service.view_offer(session, 9999)
