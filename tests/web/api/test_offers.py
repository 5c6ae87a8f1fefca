"""Partner offers through the API: created as drafts or published, read by whom may see them,
changed by their author alone, moved through their statuses and withdrawn; bad fields are 422s
naming the field that change nothing; the list pages the published ones, newest first. Every
answer is checked against the OpenAPI document."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from fedi.db.models import utcnow
from fedi.partners import policy
from tests.partners.test_fields import offer_payload
from tests.web.api.conftest import Api


@pytest.fixture(autouse=True)
def validation_off() -> Iterator[None]:
    policy.set_validation_override(False)
    yield
    policy.set_validation_override(None)


def _deadline(days: int = 90) -> str:
    return (utcnow().date() + timedelta(days=days)).isoformat()


def _payload(**changes: Any) -> dict[str, Any]:
    payload = offer_payload(**changes)
    if "funding" not in changes:
        payload["funding"] = {**payload["funding"], "call_deadline": _deadline()}
    return payload


def _create(api: Api, login: str = "anna", **changes: Any) -> dict[str, Any]:
    response = api.client.post("/api/v1/offers", json=_payload(**changes), headers=api.auth(login))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    key = body["id"].rsplit("/", 1)[1]
    assert response.headers["location"] == f"https://esf.test/api/v1/offers/{key}"
    return body


def _path(offer: dict[str, Any]) -> str:
    return "/api/v1/offers/" + offer["id"].rsplit("/", 1)[1]


def test_an_offer_is_created_read_changed_filled_and_withdrawn(api: Api) -> None:
    created = _create(api)
    assert created["status"] == "published" and created["local"] is True
    assert created["origin"] == "esf.test" and created["author"]["handle"] == "@anna@esf.test"
    assert created["countries_sought"] == ["IT", "GR"]
    assert created["keywords"] == ["mentoring", "peer support"]
    assert created["funding"]["currency"] == "EUR" and created["expires"] == _deadline()
    assert "<strong>mentoringu</strong>" in created["description_html"]
    assert created["validated"] is False and created["validated_by"] is None
    assert created["published"]
    path = _path(created)
    assert api.client.get(path).json() == created
    changed = api.client.patch(
        path,
        json={"title": "Mentoring 2.0", "funding": {"budget_max": 500000}, "themes": []},
        headers=api.auth("anna"),
    )
    assert changed.status_code == 200, changed.text
    after = changed.json()
    assert after["title"] == "Mentoring 2.0" and after["themes"] == []
    assert after["funding"]["budget_max"] == 500000
    assert after["funding"]["budget_min"] == 100000  # funding merges key by key
    assert after["objectives"] == ["h", "a"]
    filled = api.client.post(f"{path}/status", json={"status": "filled"}, headers=api.auth("anna"))
    assert filled.status_code == 200 and filled.json()["status"] == "filled"
    assert api.client.get(path).json()["status"] == "filled"
    assert api.client.delete(path, headers=api.auth("anna")).status_code == 204
    assert api.client.get(path).status_code == 410
    assert api.client.patch(path, json={}, headers=api.auth("anna")).status_code == 410
    assert api.checker.checked >= 8


def test_a_draft_is_seen_by_its_author_and_the_moderators_alone(api: Api, settings: Any) -> None:
    draft = _create(api, status="draft", objectives=[])
    assert draft["status"] == "draft" and draft["published"] is None
    path = _path(draft)
    assert api.client.get(path).status_code == 404
    assert api.client.get(path, headers=api.auth("anna")).json() == draft
    assert api.client.get(path, headers=api.auth("mira")).status_code == 200
    assert api.client.get(path, headers=api.auth("ada")).status_code == 200
    assert api.client.get("/api/v1/offers").json()["total"] == 0
    # Publishing needs an objective: a 422 naming it, and the draft stays a draft.
    refused = api.client.post(
        f"{path}/status", json={"status": "published"}, headers=api.auth("anna")
    )
    assert refused.status_code == 422 and "objectives" in refused.json()["errors"]
    assert api.client.get(path, headers=api.auth("anna")).json()["status"] == "draft"
    api.client.patch(path, json={"objectives": ["h"]}, headers=api.auth("anna"))
    published = api.client.post(
        f"{path}/status", json={"status": "published"}, headers=api.auth("anna")
    )
    assert published.status_code == 200 and published.json()["status"] == "published"
    assert api.client.get(path).status_code == 200
    assert api.client.get("/api/v1/offers").json()["total"] == 1


def test_only_the_author_changes_an_offer(api: Api) -> None:
    offer = _create(api, login="mira")
    path = _path(offer)
    assert (
        api.client.patch(path, json={"title": "Mine"}, headers=api.auth("anna")).status_code == 403
    )
    assert api.client.delete(path, headers=api.auth("anna")).status_code == 403
    status = api.client.post(f"{path}/status", json={"status": "filled"}, headers=api.auth("anna"))
    assert status.status_code == 403
    assert api.client.patch(path, json={"title": "Mine"}).status_code == 401
    assert api.client.delete(path).status_code == 401
    assert api.client.get(path).json() == offer
    # Another member's draft is not even there.
    draft = _create(api, login="mira", status="draft")
    answer = api.client.patch(_path(draft), json={"title": "Mine"}, headers=api.auth("anna"))
    assert answer.status_code == 404


def test_offers_waiting_for_validation_stay_unpublished(api: Api) -> None:
    policy.set_validation_override(True)
    offer = _create(api)
    assert offer["status"] == "draft" and offer["awaiting_validation"] is True
    assert api.client.get(_path(offer)).status_code == 404
    assert api.client.get("/api/v1/offers").json()["total"] == 0


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"colour": "red"}, "colour", "not a field"),
        (
            {
                "organisation": {
                    "name": "X",
                    "type": "ngo-civil-society",
                    "country": "PL",
                    "size": 3,
                }
            },
            "organisation.size",
            "not a field",
        ),
        ({"themes": ["nothing"]}, "themes", "allowed values"),
        ({"countries_sought": ["XX"]}, "countries_sought", "allowed values"),
        ({"purpose": "gift"}, "purpose", "allowed values"),
        ({"title": ""}, "title", "is required"),
        ({"status": "filled"}, "status", "draft or published"),
        ({"id": "https://esf.test/objects/x"}, "id", "read-only"),
        ({"funding": {"call_deadline": "2001-01-01"}}, "funding.call_deadline", "future"),
    ],
)
def test_bad_fields_are_422_naming_the_field_and_change_nothing(
    api: Api, change: dict[str, Any], field: str, words: str
) -> None:
    response = api.client.post(
        "/api/v1/offers", json={**_payload(), **change}, headers=api.auth("anna")
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert any(words in message for message in response.json()["errors"][field])
    assert api.client.get("/api/v1/offers").json()["total"] == 0


def test_a_bad_patch_changes_nothing(api: Api) -> None:
    offer = _create(api)
    path = _path(offer)
    for patch, field in (
        ({"themes": ["nothing"], "title": "New"}, "themes"),
        ({"colour": "red", "title": "New"}, "colour"),
        ({"status": "filled"}, "status"),
        ({"funding": {"budget_min": 900000}}, "funding.budget_max"),
    ):
        answer = api.client.patch(path, json=patch, headers=api.auth("anna"))
        assert answer.status_code == 422, (patch, answer.text)
        assert field in answer.json()["errors"]
    bad = api.client.post(f"{path}/status", json={"status": "expired"}, headers=api.auth("anna"))
    assert bad.status_code == 422 and "status" in bad.json()["errors"]
    extra = api.client.post(
        f"{path}/status", json={"status": "filled", "why": "x"}, headers=api.auth("anna")
    )
    assert extra.status_code == 422 and "why" in extra.json()["errors"]
    assert api.client.get(path).json() == offer


def test_the_list_is_newest_first_filtered_and_paged(api: Api) -> None:
    for n in range(3):
        _create(api, title=f"Offer {n}")
    _create(api, title="Request", purpose="request", themes=["social-economy"])
    _create(api, title="Draft", status="draft")
    first = api.client.get("/api/v1/offers?limit=2").json()
    assert [i["title"] for i in first["items"]] == ["Request", "Offer 2"]
    assert first["total"] == 4 and first["next"]
    rest = api.client.get(first["next"]).json()
    assert [i["title"] for i in rest["items"]] == ["Offer 1", "Offer 0"] and rest["next"] is None
    assert api.client.get("/api/v1/offers?purpose=request").json()["total"] == 1
    assert api.client.get("/api/v1/offers?theme=social-economy").json()["total"] == 1
    assert api.client.get("/api/v1/offers?country=PL&objective=h").json()["total"] == 4
    assert api.client.get("/api/v1/offers?country=IT").json()["total"] == 0
    bad = api.client.get("/api/v1/offers?theme=nothing")
    assert bad.status_code == 422 and "allowed values" in bad.json()["errors"]["theme"][0]
    assert api.client.get("/api/v1/offers/nonsense").status_code == 404
    assert api.client.post("/api/v1/offers", json=_payload()).status_code == 401
