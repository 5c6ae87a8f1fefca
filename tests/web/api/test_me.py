"""``GET|PATCH /api/v1/me``: the member's profile, every code checked, edits federated."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from fedi.cli.common import run_in_session
from fedi.db.models import Activity
from fedi.settings import Settings
from tests.web.api.conftest import Api


def updates(settings: Settings) -> int:
    async def work(session: Any) -> int:
        count = await session.scalar(
            select(func.count()).select_from(Activity).where(Activity.type == "Update")
        )
        return int(count or 0)

    return run_in_session(settings, work)


def test_a_new_member_has_an_empty_profile(api: Api) -> None:
    answer = api.client.get("/api/v1/me", headers=api.auth("anna"))
    assert answer.status_code == 200
    assert answer.json() == {
        "id": "https://esf.test/users/anna",
        "url": "https://esf.test/users/anna",
        "origin": "esf.test",
        "local": True,
        "handle": "@anna@esf.test",
        "login": "anna",
        "role": "member",
        "display_name": "anna",
        "organisation": "",
        "organisation_type": None,
        "country": None,
        "languages": [],
        "expertise": {"themes": [], "objectives": []},
        "bio": "",
        "discoverable": True,
        "email": None,
    }


def test_patch_changes_the_fields_given_and_federates_the_name(
    api: Api, settings: Settings
) -> None:
    patch = {
        "display_name": "Anna Nowak",
        "organisation": "Fundacja Aktywnej Integracji",
        "organisation_type": "ngo-civil-society",
        "country": "EL",
        "languages": ["pl", "en", "pl"],
        "expertise": {"themes": ["social-inclusion"], "objectives": ["h", "a"]},
        "bio": "Mentoring for young people.\r\nTen years of ESF projects.",
        "email": "anna@example.org",
    }
    answer = api.client.patch("/api/v1/me", json=patch, headers=api.auth("anna"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["country"] == "GR"
    assert body["languages"] == ["pl", "en"]
    assert body["expertise"] == {"themes": ["social-inclusion"], "objectives": ["h", "a"]}
    assert body["bio"] == "Mentoring for young people.\nTen years of ESF projects."
    assert api.client.get("/api/v1/me", headers=api.auth("anna")).json() == body
    assert updates(settings) == 1
    # Only the fields given change; the e-mail address is never federated, the country is.
    answer = api.client.patch("/api/v1/me", json={"email": None}, headers=api.auth("anna"))
    assert answer.json() == body | {"email": None}
    assert updates(settings) == 1
    answer = api.client.patch("/api/v1/me", json={"country": None}, headers=api.auth("anna"))
    assert answer.json() == body | {"email": None, "country": None}
    assert updates(settings) == 2
    person = api.client.get("/users/anna", headers={"Accept": "application/activity+json"}).json()
    assert person["name"] == "Anna Nowak"
    assert person["organisation"] == "Fundacja Aktywnej Integracji"
    assert person["themes"] == ["social-inclusion"] and person["esfObjectives"] == ["h", "a"]
    assert "country" not in person and "anna@example.org" not in str(person)
    # A member who is not discoverable carries no profile.
    api.client.patch("/api/v1/me", json={"discoverable": False}, headers=api.auth("anna"))
    person = api.client.get("/users/anna", headers={"Accept": "application/activity+json"}).json()
    assert person["discoverable"] is False
    assert "themes" not in person and "organisation" not in person


def test_unknown_codes_name_the_field_and_the_allowed_values_and_change_nothing(
    api: Api, settings: Settings
) -> None:
    before = api.client.get("/api/v1/me", headers=api.auth("anna")).json()
    patch = {
        "display_name": "Anna",
        "organisation_type": "bank",
        "expertise": {"themes": ["social-inclusion", "space"], "objectives": ["z"], "x": []},
        "languages": "pl",
        "age": 40,
        "discoverable": "yes",
        "email": "not an address",
    }
    answer = api.client.patch("/api/v1/me", json=patch, headers=api.auth("anna"))
    assert answer.status_code == 422
    errors = answer.json()["errors"]
    assert set(errors) == {
        "organisation_type",
        "expertise.themes",
        "expertise.objectives",
        "expertise.x",
        "languages",
        "age",
        "discoverable",
        "email",
    }
    assert errors["expertise.objectives"] == [
        "'z' is not a known code; allowed values: a, b, c, d, e, f, g, h, i, j, k, l, m"
    ]
    assert "ngo-civil-society" in errors["organisation_type"][0]
    assert errors["expertise.x"] == ["unknown field; expertise has themes and objectives"]
    assert errors["age"][0].startswith("unknown field; the profile has display_name, ")
    assert api.client.get("/api/v1/me", headers=api.auth("anna")).json() == before
    assert updates(settings) == 0


def test_text_fields_are_bounded_and_single_line(api: Api) -> None:
    for patch, field in (
        ({"display_name": "x" * 256}, "display_name"),
        ({"organisation": "one\ntwo"}, "organisation"),
        ({"bio": "\x00"}, "bio"),
        ({"bio": 3}, "bio"),
    ):
        answer = api.client.patch("/api/v1/me", json=patch, headers=api.auth("anna"))
        assert answer.status_code == 422
        assert list(answer.json()["errors"]) == [field]


def test_the_profile_needs_a_member(api: Api) -> None:
    assert api.client.get("/api/v1/me").status_code == 401
    answer = api.client.patch(
        "/api/v1/me", json={"bio": "x"}, headers={"Authorization": "Bearer fedi_unknown"}
    )
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"
    assert answer.json()["title"] == "Unauthorized"
