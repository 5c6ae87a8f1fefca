"""Experiences through their service: stored as an Article with its fields, published, edited,
deleted, and listed with filters, on both databases."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.content.experiences.service import (
    ExperienceFilters,
    ExperienceGone,
    create_experience,
    delete_experience,
    get_experience,
    list_experiences,
    update_experience,
)
from fedi.db.models import Activity, Actor, ContentObject, Delivery, Experience
from fedi.errors import ForbiddenError, ValidationError
from fedi.services import members
from fedi.settings import Settings
from fedi.testing.peers import add_remote_follower

FIELDS: dict[str, Any] = {
    "language": "en",
    "title": "Mentoring young migrants",
    "summary": "What worked in three regions.",
    "body": "## Context\n\nMentors met *every week*.",
    "translations": {"pl": {"title": "Mentoring młodych migrantów", "body": "Co zadziałało."}},
    "country": "PL",
    "objectives": ["a", "i"],
    "themes": ["migrant-integration"],
    "target_groups": ["youth-neet", "migrants-third-country-nationals"],
    "programme_period": "2021-2027",
    "organisation": "Fundacja Przykład",
    "results": "40 young people in work.",
    "transferability": "Any region with a job centre.",
    "tags": ["mentoring", "Youth"],
}


async def _member(session: AsyncSession, settings: Settings, login: str) -> Actor:
    return (await members.add_member(session, settings, login, "a long test password")).actor


async def _count(session: AsyncSession, model: type[object]) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_an_experience_is_an_article_sent_to_followers(
    session: AsyncSession, settings: Settings
) -> None:
    anna = await _member(session, settings, "anna")
    await add_remote_follower(session, anna, "it.test", "marco")
    view = await create_experience(session, settings, anna, FIELDS)
    await session.commit()
    obj = await session.scalar(select(ContentObject).where(ContentObject.uri == view.uri))
    assert obj is not None and obj.type == "Article" and obj.local
    assert obj.name == "Mentoring young migrants"
    assert obj.source == FIELDS["body"] and obj.source_media_type == "text/markdown"
    document = obj.document
    assert document["url"] == f"https://esf.test/experiences/{view.key}"
    assert document["summary"] == "<p>What worked in three regions.</p>"
    assert "<em>every week</em>" in document["content"]
    assert document["nameMap"] == {"en": FIELDS["title"], "pl": "Mentoring młodych migrantów"}
    assert document["summaryMap"]["pl"] == "<p>Co zadziałało.</p>"
    assert document["originalLanguage"] == "en"
    assert document["esfObjectives"] == ["a", "i"]
    assert document["targetGroups"] == FIELDS["target_groups"]
    assert document["country"] == "PL" and document["programmePeriod"] == "2021-2027"
    assert document["tag"][1] == {
        "type": "Hashtag",
        "name": "#Youth",
        "href": "https://esf.test/experiences?tag=youth",
    }
    assert document["to"] == ["https://www.w3.org/ns/activitystreams#Public"]
    assert document["cc"] == [anna.followers_url]
    create = await session.scalar(select(Activity).where(Activity.type == "Create"))
    assert create is not None and create.object_uri == view.uri
    assert create.document["object"]["experienceKind"] == "experience"
    delivery = await session.scalar(select(Delivery).where(Delivery.activity_id == create.id))
    assert delivery is not None and delivery.inbox == "https://it.test/inbox"
    again = await get_experience(session, settings, view.key)
    assert again.data == view.data
    assert again.versions["pl"].title == "Mentoring młodych migrantów"


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"objectives": ["z"]}, "objectives", "allowed values: a, b, c"),
        ({"country": "XX"}, "country", "allowed values"),
        ({"themes": "social-inclusion"}, "themes", "list of codes"),
        ({"target_groups": ["nobody"]}, "target_groups", "allowed values"),
        ({"kind": "story"}, "kind", "experience, resource"),
        ({"language": "xx"}, "language", "allowed values"),
        ({"title": "  "}, "title", "is required"),
        ({"body": ""}, "body", "is required"),
        ({"body": "a NUL \u0000 inside"}, "body", "control characters"),
        ({"title": "bell \u0007"}, "title", "control characters"),
        ({"title": "x" * 301}, "title", "at most 300"),
        ({"programme_period": "1990"}, "programme_period", "2021-2027"),
        ({"tags": ["two words"]}, "tags", "one word"),
        ({"objectives": ["a"] * 14}, "objectives", "at most 13"),
        ({"translations": {"de": {"title": "a"}}}, "translations.de.body", "is required"),
        ({"colour": "red"}, "colour", "not a field"),
    ],
)
async def test_bad_fields_are_refused_by_name_and_nothing_is_stored(
    session: AsyncSession, settings: Settings, change: dict[str, Any], field: str, words: str
) -> None:
    anna = await _member(session, settings, "anna")
    with pytest.raises(ValidationError) as refused:
        await create_experience(session, settings, anna, {**FIELDS, **change})
    assert field in refused.value.errors, refused.value.errors
    assert any(words in message for message in refused.value.errors[field])
    assert await _count(session, ContentObject) == 0
    assert await _count(session, Activity) == 0


async def test_every_bad_field_is_named_at_once(session: AsyncSession, settings: Settings) -> None:
    anna = await _member(session, settings, "anna")
    with pytest.raises(ValidationError) as refused:
        await create_experience(session, settings, anna, {"language": "en", "country": "XX"})
    assert set(refused.value.errors) == {"title", "body", "country"}


async def test_an_edit_replaces_the_fields_given_and_federates_an_update(
    session: AsyncSession, settings: Settings
) -> None:
    anna = await _member(session, settings, "anna")
    view = await create_experience(session, settings, anna, FIELDS)
    edited = await update_experience(
        session, settings, anna, view.key, {"title": "Mentoring, two years on", "objectives": ["h"]}
    )
    assert edited.data.original.title == "Mentoring, two years on"
    assert edited.data.objectives == ["h"]
    assert edited.data.themes == FIELDS["themes"]
    assert edited.published == view.published and edited.updated is not None
    update = await session.scalar(select(Activity).where(Activity.type == "Update"))
    assert update is not None
    assert update.document["object"]["name"] == "Mentoring, two years on"
    assert update.document["object"]["esfObjectives"] == ["h"]
    assert update.document["object"]["updated"]
    by_objective = await list_experiences(
        session, settings, ExperienceFilters(objective="a"), limit=10
    )
    assert by_objective.rows == []
    with pytest.raises(ValidationError):
        await update_experience(session, settings, anna, view.key, {"country": "XX"})


async def test_only_the_author_edits_or_deletes(session: AsyncSession, settings: Settings) -> None:
    anna = await _member(session, settings, "anna")
    bob = await _member(session, settings, "bob")
    view = await create_experience(session, settings, anna, FIELDS)
    with pytest.raises(ForbiddenError):
        await update_experience(session, settings, bob, view.key, {"title": "Mine now"})
    with pytest.raises(ForbiddenError):
        await delete_experience(session, settings, bob, view.key)
    assert (await get_experience(session, settings, view.key)).data.original.title == FIELDS[
        "title"
    ]


async def test_a_deleted_experience_is_a_tombstone_and_gone(
    session: AsyncSession, settings: Settings
) -> None:
    anna = await _member(session, settings, "anna")
    view = await create_experience(session, settings, anna, FIELDS)
    await delete_experience(session, settings, anna, view.key)
    await session.commit()
    obj = await session.scalar(select(ContentObject).where(ContentObject.uri == view.uri))
    assert obj is not None and obj.deleted_at is not None
    assert obj.document["type"] == "Tombstone" and obj.document["formerType"] == "Article"
    assert await _count(session, Experience) == 0
    deleted = await session.scalar(select(Activity).where(Activity.type == "Delete"))
    assert deleted is not None and deleted.document["object"]["type"] == "Tombstone"
    with pytest.raises(ExperienceGone):
        await get_experience(session, settings, view.key)
    assert (await list_experiences(session, settings, ExperienceFilters(), limit=10)).total == 0


async def test_lists_are_filtered_and_paged(session: AsyncSession, settings: Settings) -> None:
    anna = await _member(session, settings, "anna")
    first = await create_experience(session, settings, anna, FIELDS)
    second = await create_experience(
        session,
        settings,
        anna,
        {
            "kind": "resource",
            "language": "pl",
            "title": "Wzór umowy partnerskiej",
            "body": "Umowa o współpracy ponadnarodowej, 100% gotowa.",
            "country": "DE",
            "themes": ["partnership"],
            "tags": ["template"],
        },
    )

    async def keys(**filters: str) -> list[str]:
        page = await list_experiences(session, settings, ExperienceFilters(**filters), limit=10)
        return [view.key for view in page.rows]

    assert await keys() == [second.key, first.key]
    assert await keys(country="PL") == [first.key]
    assert await keys(objective="i") == [first.key]
    assert await keys(theme="partnership") == [second.key]
    assert await keys(target_group="youth-neet") == [first.key]
    assert await keys(kind="resource") == [second.key]
    assert await keys(tag="YOUTH") == [first.key]
    assert await keys(tag="#template") == [second.key]
    assert await keys(q="mentoring") == [first.key]
    assert await keys(q="THREE regions") == [first.key]
    assert await keys(q="umowa") == [second.key]
    assert await keys(q="100%") == [second.key]
    assert await keys(q="100_") == []
    assert await keys(country="PL", kind="resource") == []
    page = await list_experiences(session, settings, ExperienceFilters(), limit=1)
    assert [v.key for v in page.rows] == [second.key] and page.total == 2
    rest = await list_experiences(
        session, settings, ExperienceFilters(), limit=1, before=page.next_before
    )
    assert [v.key for v in rest.rows] == [first.key] and rest.next_before is None
