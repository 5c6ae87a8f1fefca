"""Expressing interest in an offer through the API, on one instance: the owner is notified with
who, which organisation, which country and the message, reads the conversation and answers it,
and the sender is notified of the answer; one's own offer and a closed one are 422s, bad fields
422s naming them, a second one for the same offer 429; nobody else reads the conversation, and
no e-mail address appears anywhere. Every answer is checked against the OpenAPI document."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from fedi.partners import policy
from tests.web.api.conftest import Api
from tests.web.api.test_offers import _create, _path


@pytest.fixture(autouse=True)
def validation_off() -> Iterator[None]:
    policy.set_validation_override(False)
    yield
    policy.set_validation_override(None)


def _notifications(api: Api, login: str) -> list[dict[str, Any]]:
    response = api.client.get("/api/v1/notifications", headers=api.auth(login))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def _profile(api: Api, login: str, **fields: Any) -> None:
    response = api.client.patch("/api/v1/me", json=fields, headers=api.auth(login))
    assert response.status_code == 200, response.text


def test_interest_reaches_the_owner_who_answers(api: Api) -> None:
    offer = _create(api, "anna")
    _profile(api, "mira", organisation="Cooperativa Sociale Aurora", country="IT",
             organisation_type="social-economy-enterprise", email="mira@example.org")  # fmt: skip
    response = api.client.post(
        f"{_path(offer)}/interest",
        json={"message": "We run mentoring for NEETs in Turin.\n\nShall we talk?"},
        headers=api.auth("mira"),
    )
    assert response.status_code == 201, response.text
    sent = response.json()
    assert sent["organisation"] == {
        "name": "Cooperativa Sociale Aurora",
        "type": "social-economy-enterprise",
        "country": "IT",
    }
    assert sent["offer"] == {"id": offer["id"], "title": offer["title"]}
    assert sent["sender"]["handle"] == "@mira@esf.test"
    assert sent["recipient"]["handle"] == "@anna@esf.test"
    assert response.headers["location"].endswith(f"/api/v1/interests/{sent['id']}")
    assert "mira@example.org" not in response.text

    (told,) = [n for n in _notifications(api, "anna") if n["kind"] == "interest"]
    assert told["actor"]["handle"] == "@mira@esf.test"
    assert told["data"]["organisation"] == "Cooperativa Sociale Aurora"
    assert told["data"]["country"] == "IT"
    assert told["data"]["comment"].startswith("We run mentoring")
    assert "mira@example.org" not in str(told)

    talk = api.client.get(f"/api/v1/interests/{sent['id']}", headers=api.auth("anna"))
    assert talk.status_code == 200 and len(talk.json()["messages"]) == 1
    assert (
        api.client.get(f"/api/v1/interests/{sent['id']}", headers=api.auth("ada")).status_code
        == 404
    )

    answered = api.client.post(
        f"/api/v1/interests/{sent['id']}/replies",
        json={"message": "Gladly: Tuesday at ten?"},
        headers=api.auth("anna"),
    )
    assert answered.status_code == 201, answered.text
    assert answered.json()["organisation"] is None
    assert answered.json()["recipient"]["handle"] == "@mira@esf.test"
    (reply,) = [n for n in _notifications(api, "mira") if n["kind"] == "interest_reply"]
    assert reply["data"]["comment"] == "Gladly: Tuesday at ten?"
    assert reply["data"]["interest"] == sent["id"]
    both = api.client.get(f"/api/v1/interests/{sent['id']}", headers=api.auth("mira")).json()
    assert [m["message"] for m in both["messages"]][1] == "Gladly: Tuesday at ten?"
    # Anyone outside the conversation cannot answer in it either.
    outsider = api.client.post(
        f"/api/v1/interests/{sent['id']}/replies",
        json={"message": "Me too"},
        headers=api.auth("ada"),
    )
    assert outsider.status_code == 404
    assert api.checker.checked >= 7


def test_fields_given_win_over_the_profile_and_the_country_falls_back(api: Api) -> None:
    offer = _create(api, "anna")
    response = api.client.post(
        f"{_path(offer)}/interest",
        json={"message": "Hello", "organisation": {"name": "Urząd Pracy", "country": "EL"}},
        headers=api.auth("mira"),
    )
    assert response.status_code == 201, response.text
    assert response.json()["organisation"] == {"name": "Urząd Pracy", "type": None, "country": "GR"}
    other = _create(api, "anna")
    response = api.client.post(
        f"{_path(other)}/interest",
        json={"message": "Hello", "organisation": {"name": "ANPAL"}},
        headers=api.auth("ada"),
    )
    assert response.status_code == 201, response.text
    assert response.json()["organisation"]["country"] == "PL"  # the instance's country


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"message": ""}, "message"),
        ({"message": "x" * 5001, "organisation": {"name": "A"}}, "message"),
        ({"organisation": {"name": "A"}}, "message"),
        ({"message": "Hi"}, "organisation.name"),
        ({"message": "Hi", "organisation": {"name": "A", "country": "XX"}}, "organisation.country"),
        ({"message": "Hi", "organisation": {"name": "A", "type": "pub"}}, "organisation.type"),
        ({"message": "Hi", "organisation": {"name": "A", "email": "a@b.c"}}, "organisation.email"),
        ({"message": "Hi", "organisation": "A"}, "organisation"),
        ({"message": "Hi", "organisation": {"name": "A"}, "phone": "1"}, "phone"),
    ],
)
def test_bad_fields_are_422s_naming_them_and_send_nothing(
    api: Api, body: dict[str, Any], field: str
) -> None:
    offer = _create(api, "anna")
    response = api.client.post(f"{_path(offer)}/interest", json=body, headers=api.auth("mira"))
    assert response.status_code == 422, response.text
    assert field in response.json()["errors"]
    assert [n for n in _notifications(api, "anna") if n["kind"] == "interest"] == []


def test_own_closed_and_unknown_offers_are_refused(api: Api) -> None:
    body = {"message": "Hi", "organisation": {"name": "A"}}
    offer = _create(api, "anna")
    own = api.client.post(f"{_path(offer)}/interest", json=body, headers=api.auth("anna"))
    assert own.status_code == 422 and "own offer" in own.json()["detail"]
    filled = _create(api, "anna")
    api.client.post(f"{_path(filled)}/status", json={"status": "filled"}, headers=api.auth("anna"))
    closed = api.client.post(f"{_path(filled)}/interest", json=body, headers=api.auth("mira"))
    assert closed.status_code == 422 and "filled" in closed.json()["detail"]
    withdrawn = _create(api, "anna")
    api.client.delete(_path(withdrawn), headers=api.auth("anna"))
    gone = api.client.post(f"{_path(withdrawn)}/interest", json=body, headers=api.auth("mira"))
    assert gone.status_code == 422 and "withdrawn" in gone.json()["detail"]
    draft = _create(api, "anna", status="draft")
    hidden = api.client.post(f"{_path(draft)}/interest", json=body, headers=api.auth("mira"))
    assert hidden.status_code == 404
    unknown = "/api/v1/offers/00000000-0000-0000-0000-000000000000/interest"
    assert api.client.post(unknown, json=body, headers=api.auth("mira")).status_code == 404
    assert api.client.post(f"{_path(offer)}/interest", json=body).status_code == 401
    assert [n for n in _notifications(api, "anna") if n["kind"] == "interest"] == []


def test_a_second_interest_in_one_offer_the_same_day_is_429(api: Api) -> None:
    offer = _create(api, "anna")
    body = {"message": "Hi", "organisation": {"name": "A"}}
    first = api.client.post(f"{_path(offer)}/interest", json=body, headers=api.auth("mira"))
    assert first.status_code == 201
    again = api.client.post(f"{_path(offer)}/interest", json=body, headers=api.auth("mira"))
    assert again.status_code == 429
    assert 0 < int(again.headers["retry-after"]) <= 86400
    assert len([n for n in _notifications(api, "anna") if n["kind"] == "interest"]) == 1
