"""An experience written on one real instance reaches a follower on another: its Create, its
Update and its Delete, with every structured field."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.content.experiences.service import (
    create_experience,
    delete_experience,
    update_experience,
)
from fedi.services.members import find_member
from fedi.testing.instances import RunningInstance, collection_items, wait_until

pytestmark = pytest.mark.federation


def test_create_update_and_delete_reach_a_follower_with_every_field(
    pair: tuple[RunningInstance, RunningInstance],
) -> None:
    pl, it = pair
    pl.add_member("anna")
    it.add_member("marco")
    anna = pl.actor_uri("anna")
    it.follow("marco", anna)
    wait_until(lambda: it.actor_uri("marco") in collection_items(f"{anna}/followers"))

    def as_anna(work: Any) -> Any:
        async def run(session: AsyncSession) -> Any:
            member = await find_member(session, "anna")
            return await work(session, member.actor)

        return pl.run(run)

    fields = {
        "language": "pl",
        "title": "Mentoring młodych migrantów",
        "summary": "Co zadziałało w trzech regionach.",
        "body": "## Kontekst\n\nMentorzy spotykali się **co tydzień**.",
        "translations": {"en": {"title": "Mentoring young migrants", "body": "Every week."}},
        "country": "PL",
        "objectives": ["a", "i"],
        "themes": ["migrant-integration"],
        "target_groups": ["youth-neet"],
        "programme_period": "2021-2027",
        "organisation": "Fundacja Przykład",
        "results": "40 osób w pracy.",
        "transferability": "Każdy region z urzędem pracy.",
        "tags": ["mentoring"],
    }
    view = as_anna(lambda s, a: create_experience(s, pl.settings, a, fields))
    received = wait_until(lambda: it.stored_object(view.uri))
    assert received.type == "Article" and received.local is False
    assert received.name == "Mentoring młodych migrantów"
    assert "<strong>co tydzień</strong>" in (received.content or "")
    assert received.source == fields["body"] and received.source_media_type == "text/markdown"
    document = received.document
    assert document["url"] == f"{pl.base_url}/experiences/{view.key}"
    assert document["nameMap"]["en"] == "Mentoring young migrants"
    assert document["summaryMap"]["pl"] == "<p>Co zadziałało w trzech regionach.</p>"
    assert document["experienceKind"] == "experience" and document["originalLanguage"] == "pl"
    assert document["esfObjectives"] == ["a", "i"]
    assert document["themes"] == ["migrant-integration"]
    assert document["targetGroups"] == ["youth-neet"]
    assert document["country"] == "PL" and document["programmePeriod"] == "2021-2027"
    assert document["organisation"] == "Fundacja Przykład"
    assert document["results"] == "40 osób w pracy."
    assert document["transferability"] == "Każdy region z urzędem pracy."
    assert document["tag"][0]["name"] == "#mentoring"

    as_anna(
        lambda s, a: update_experience(
            s, pl.settings, a, view.key, {"title": "Dwa lata później", "objectives": ["h"]}
        )
    )
    changed = wait_until(
        lambda: (
            (row := it.stored_object(view.uri)) is not None
            and row.name == "Dwa lata później"
            and row
        )
    )
    assert changed.document["esfObjectives"] == ["h"]
    assert changed.document["themes"] == ["migrant-integration"]
    assert changed.document["updated"]

    as_anna(lambda s, a: delete_experience(s, pl.settings, a, view.key))
    gone = wait_until(
        lambda: (row := it.stored_object(view.uri)) is not None and row.deleted_at and row
    )
    assert gone.document["type"] == "Tombstone" and gone.content is None
