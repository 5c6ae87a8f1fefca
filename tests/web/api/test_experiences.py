"""Experiences through the API: the same checks as the form, 201 with Location, filters and
cursor pages, changes and deletion by the author alone, uploads named as attachments; every
answer checked against the OpenAPI document."""

from __future__ import annotations

from typing import Any

import pytest

from fedi.testing.images import tiny_pdf, tiny_png
from tests.web.api.conftest import Api

EXPERIENCE: dict[str, Any] = {
    "language": "en",
    "title": "Mentoring young migrants",
    "summary": "What worked in three regions.",
    "body": "## Context\n\nMentors met *every week*.",
    "translations": {"pl": {"title": "Mentoring", "body": "Co tydzień."}},
    "country": "EL",
    "objectives": ["a", "i"],
    "themes": ["migrant-integration"],
    "target_groups": ["youth-neet"],
    "programme_period": "2021-2027",
    "organisation": "Fundacja",
    "tags": ["#mentoring"],
}


def _create(api: Api, **changes: Any) -> dict[str, Any]:
    response = api.client.post(
        "/api/v1/experiences", json={**EXPERIENCE, **changes}, headers=api.auth("anna")
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    key = body["id"].rsplit("/", 1)[1]
    assert response.headers["location"] == f"https://esf.test/api/v1/experiences/{key}"
    return body


def test_an_experience_is_created_read_listed_changed_and_deleted(api: Api) -> None:
    created = _create(api)
    assert created["country"] == "GR"  # EU usage EL is Greece
    assert created["tags"] == ["mentoring"] and created["local"] is True
    assert "<em>every week</em>" in created["body_html"]
    assert created["author"]["handle"] == "@anna@esf.test"
    key = created["id"].rsplit("/", 1)[1]
    path = f"/api/v1/experiences/{key}"
    assert api.client.get(path).json() == created
    listed = api.client.get("/api/v1/experiences?objective=i&country=GR").json()
    assert [item["id"] for item in listed["items"]] == [created["id"]] and listed["total"] == 1
    assert api.client.get("/api/v1/experiences?kind=resource").json()["total"] == 0
    assert api.client.get("/api/v1/experiences?q=REGIONS").json()["total"] == 1
    assert api.client.get("/api/v1/experiences?tag=mentoring").json()["total"] == 1
    refused = api.client.patch(path, json={"title": "Mine"}, headers=api.auth("mira"))
    assert refused.status_code == 403
    changed = api.client.patch(
        path, json={"title": "Two years on", "themes": []}, headers=api.auth("anna")
    )
    assert changed.status_code == 200
    assert changed.json()["title"] == "Two years on" and changed.json()["themes"] == []
    assert changed.json()["objectives"] == ["a", "i"] and changed.json()["updated"]
    assert api.client.delete(path, headers=api.auth("mira")).status_code == 403
    assert api.client.delete(path, headers=api.auth("anna")).status_code == 204
    assert api.client.get(path).status_code == 410
    assert api.client.patch(path, json={}, headers=api.auth("anna")).status_code == 410
    assert api.client.get("/api/v1/experiences").json()["total"] == 0
    assert api.checker.checked >= 12


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"objectives": ["z"]}, "objectives", "allowed values: a, b"),
        ({"country": "XX"}, "country", "allowed values"),
        ({"kind": "story"}, "kind", "experience, resource"),
        ({"title": ""}, "title", "is required"),
        ({"colour": "red"}, "colour", "not a field"),
        ({"themes": ["partnership"] * 51}, "themes", "at most 50"),
    ],
)
def test_bad_fields_are_422_naming_the_field(
    api: Api, change: dict[str, Any], field: str, words: str
) -> None:
    response = api.client.post(
        "/api/v1/experiences", json={**EXPERIENCE, **change}, headers=api.auth("anna")
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert any(words in message for message in response.json()["errors"][field])
    assert api.client.get("/api/v1/experiences").json()["total"] == 0


def test_list_filters_are_checked_and_paged(api: Api) -> None:
    for n in range(3):
        _create(api, title=f"Experience {n}")
    bad = api.client.get("/api/v1/experiences?theme=nothing")
    assert bad.status_code == 422 and "allowed values" in bad.json()["errors"]["theme"][0]
    assert api.client.get("/api/v1/experiences?kind=story").status_code == 422
    first = api.client.get("/api/v1/experiences?limit=2").json()
    assert [i["title"] for i in first["items"]] == ["Experience 2", "Experience 1"]
    assert first["total"] == 3 and first["next"]
    rest = api.client.get(first["next"]).json()
    assert [i["title"] for i in rest["items"]] == ["Experience 0"] and rest["next"] is None
    assert api.client.get("/api/v1/experiences/nonsense").status_code == 404
    assert api.client.post("/api/v1/experiences", json=EXPERIENCE).status_code == 401


def test_uploaded_files_are_attached_by_id(api: Api) -> None:
    image = api.client.post(
        "/api/v1/media",
        files={"file": ("square.png", tiny_png(), "image/png")},
        data={"description": "A blue square"},
        headers=api.auth("anna"),
    )
    assert image.status_code == 201, image.text
    assert image.json()["media_type"] == "image/png" and image.json()["type"] == "Image"
    no_alt = api.client.post(
        "/api/v1/media",
        files={"file": ("square.png", tiny_png(), "image/png")},
        headers=api.auth("anna"),
    )
    assert no_alt.status_code == 422 and "alt text" in no_alt.json()["errors"]["description"][0]
    disguised = api.client.post(
        "/api/v1/media",
        files={"file": ("report.pdf", b"#!/bin/sh\nrm -rf /\n", "application/pdf")},
        headers=api.auth("anna"),
    )
    assert disguised.status_code == 422 and "file" in disguised.json()["errors"]
    extra = api.client.post(
        "/api/v1/media",
        files={"file": ("square.png", tiny_png(), "image/png")},
        data={"description": "A blue square", "caption": "a part the form does not have"},
        headers=api.auth("anna"),
    )
    assert extra.status_code == 422 and "caption" in extra.json()["errors"]
    document = api.client.post(
        "/api/v1/media",
        files={"file": ("agreement.pdf", tiny_pdf(), "application/pdf")},
        headers=api.auth("anna"),
    ).json()
    ids = [image.json()["id"], document["id"]]
    created = _create(api, attachments=ids)
    assert [(a["id"], a["type"]) for a in created["attachments"]] == [
        (ids[0], "Image"),
        (ids[1], "Document"),
    ]
    assert created["attachments"][0]["description"] == "A blue square"
    # Another member's file cannot be attached.
    response = api.client.post(
        "/api/v1/experiences",
        json={**EXPERIENCE, "attachments": ids[:1]},
        headers=api.auth("mira"),
    )
    assert response.status_code == 404 and "no such media" in response.json()["detail"]
    unknown = api.client.post(
        "/api/v1/experiences",
        json={**EXPERIENCE, "attachments": ["0123456789abcdef0123456789abcdef.png"]},
        headers=api.auth("anna"),
    )
    assert unknown.status_code == 404
    assert api.client.get("/api/v1/experiences").json()["total"] == 1
    assert api.client.get(image.json()["url"].removeprefix("https://esf.test")).status_code == 200


def test_a_control_character_in_a_text_filter_is_a_422(api: Api) -> None:
    for name in ("q", "tag"):
        answer = api.client.get("/api/v1/experiences", params={name: "a\u0000b"})
        assert answer.status_code == 422 and name in answer.json()["errors"]
