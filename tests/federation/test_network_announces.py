"""Following a country's network from another server shows what the network starts: a member of
one real instance follows the other's network group and receives its Announce of a new
experience, then the author's Update, though they never followed the author."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.content.experiences.service import create_experience, update_experience
from fedi.db.models import Activity
from fedi.services.members import find_member
from fedi.testing.instances import RunningInstance, collection_items, wait_until

pytestmark = pytest.mark.federation


def _received(instance: RunningInstance, kind: str, object_uri: str) -> dict[str, Any] | None:
    async def work(session: AsyncSession) -> dict[str, Any] | None:
        return await session.scalar(
            select(Activity.document).where(
                Activity.local.is_(False),
                Activity.type == kind,
                Activity.object_uri == object_uri,
            )
        )

    found: dict[str, Any] | None = instance.run(work)
    return found


def test_a_follower_of_the_network_gets_its_announce_and_the_authors_update(
    pair: tuple[RunningInstance, RunningInstance],
) -> None:
    pl, it = pair
    pl.add_member("anna")
    it.add_member("marco")
    network = f"{pl.base_url}/groups/network"
    it.follow("marco", network)
    wait_until(lambda: it.actor_uri("marco") in collection_items(f"{network}/followers"))

    async def write(session: AsyncSession) -> Any:
        anna = (await find_member(session, "anna")).actor
        return await create_experience(
            session,
            pl.settings,
            anna,
            {
                "language": "pl",
                "title": "Mentoring młodych migrantów",
                "body": "Mentorzy spotykali się co tydzień.",
                "country": "PL",
                "objectives": ["a"],
                "themes": ["migrant-integration"],
                "target_groups": ["youth-neet"],
            },
        )

    view = pl.run(write)
    announce = wait_until(lambda: _received(it, "Announce", view.uri))
    assert announce["actor"] == network and announce["object"] == view.uri

    async def edit(session: AsyncSession) -> None:
        anna = (await find_member(session, "anna")).actor
        await update_experience(session, pl.settings, anna, view.key, {"title": "Rok drugi"})

    pl.run(edit)
    update = wait_until(lambda: _received(it, "Update", view.uri))
    assert update["actor"] == pl.actor_uri("anna")
    assert update["object"]["name"] == "Rok drugi"
