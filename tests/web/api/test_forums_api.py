"""``/api/v1/forums``: public list and forum, creating, changing and archiving by admins."""

from __future__ import annotations

from typing import Any

from fedi.cli.common import run_in_session
from fedi.services.forums import forum_infos
from fedi.settings import Settings
from tests.web.api.conftest import Api

FORUM = {"slug": "employment", "name": "Employment", "summary": "Jobs for everyone."}


def _slugs(settings: Settings) -> list[str]:
    async def work(session: Any) -> list[str]:
        return [forum.actor.username for forum in await forum_infos(session, settings)]

    slugs: list[str] = run_in_session(settings, work)
    return slugs


def test_an_admin_creates_a_forum_that_anyone_then_lists(api: Api, settings: Settings) -> None:
    created = api.client.post("/api/v1/forums", json=FORUM, headers=api.auth("ada"))
    assert created.status_code == 201
    assert created.headers["location"] == "https://esf.test/api/v1/forums/employment"
    body = created.json()
    assert body["id"] == "https://esf.test/groups/employment"
    assert body["handle"] == "@employment@esf.test"
    assert (body["name"], body["summary"], body["archived"], body["local"]) == (
        "Employment",
        "Jobs for everyone.",
        False,
        True,
    )
    api.client.post(
        "/api/v1/forums", json={"slug": "housing", "name": "Housing"}, headers=api.auth("ada")
    )
    listed = api.client.get("/api/v1/forums?limit=1")
    assert listed.status_code == 200
    page = listed.json()
    assert page["total"] == 2
    assert [item["slug"] for item in page["items"]] == ["housing"]
    assert page["next"] is not None
    rest = api.client.get(page["next"].removeprefix("https://esf.test")).json()
    assert [item["slug"] for item in rest["items"]] == ["employment"]
    assert rest["next"] is None
    one = api.client.get("/api/v1/forums/employment")
    assert one.status_code == 200 and one.json() == body


def test_members_and_moderators_cannot_create_forums(api: Api, settings: Settings) -> None:
    for login in ("anna", "mira"):
        answer = api.client.post("/api/v1/forums", json=FORUM, headers=api.auth(login))
        assert answer.status_code == 403
    assert api.client.post("/api/v1/forums", json=FORUM).status_code == 401
    assert _slugs(settings) == []


def test_bad_values_are_refused_by_field_and_nothing_is_created(
    api: Api, settings: Settings
) -> None:
    cases = [
        ({"slug": "Bad Slug", "name": "x"}, 422, "slug"),
        ({"slug": "fine", "name": "  "}, 422, "name"),
        ({"slug": "fine", "name": "x" * 101}, 422, "name"),
        ({"slug": "fine", "name": "x", "summary": "y" * 2001}, 422, "summary"),
        ({"slug": "fine"}, 422, "name"),
        ({"slug": "fine", "name": 3}, 422, "name"),
        ({"slug": "fine", "name": "x", "colour": "red"}, 422, "colour"),
        ({"slug": "ada", "name": "Taken by a member"}, 409, "slug"),
    ]
    for body, status, field in cases:
        answer = api.client.post("/api/v1/forums", json=body, headers=api.auth("ada"))
        assert answer.status_code == status, body
        assert field in answer.json()["errors"], body
    assert _slugs(settings) == []


def test_an_admin_renames_archives_and_reopens_a_forum(api: Api) -> None:
    api.client.post("/api/v1/forums", json=FORUM, headers=api.auth("ada"))
    path = "/api/v1/forums/employment"
    renamed = api.client.patch(path, json={"name": "Work"}, headers=api.auth("ada"))
    assert renamed.status_code == 200 and renamed.json()["name"] == "Work"
    archived = api.client.patch(path, json={"archived": True}, headers=api.auth("ada")).json()
    assert archived["archived"] is True and archived["archived_at"] is not None
    assert api.client.get(path).json()["archived"] is True
    bad = api.client.patch(path, json={"archived": "yes"}, headers=api.auth("ada"))
    assert bad.status_code == 422
    refused = api.client.patch(path, json={"archived": False}, headers=api.auth("mira"))
    assert refused.status_code == 403
    reopened = api.client.patch(path, json={"archived": False}, headers=api.auth("ada")).json()
    assert reopened["archived"] is False and reopened["archived_at"] is None
    unknown = api.client.patch(
        "/api/v1/forums/nothing", json={"name": "x"}, headers=api.auth("ada")
    )
    assert unknown.status_code == 404
    assert api.client.get("/api/v1/forums/no%00such").status_code == 404
