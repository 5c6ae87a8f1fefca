"""``GET /api/v1/offers/search`` (API.md): text in any EU language and every filter, ranked,
each result with its reasons in the reader's language; CSV export; bad parameters are 422s
naming each parameter. Every answer is checked against the OpenAPI document."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest

from fedi.partners import policy
from tests.web.api.conftest import Api
from tests.web.api.test_offers import _create, _deadline, _path


@pytest.fixture(autouse=True)
def validation_off() -> Iterator[None]:
    policy.set_validation_override(False)
    yield
    policy.set_validation_override(None)


def test_search_finds_published_offers_by_text_and_codes_with_reasons(api: Api) -> None:
    mentoring = _create(api, title="Mentoring dla młodzieży")
    _create(
        api,
        title="Ekonomia społeczna",
        summary="Spółdzielnie socjalne szukają partnerów.",
        description="",
        keywords=[],
        translations={},
        themes=["social-economy"],
        objectives=["a"],
        countries_sought=["ES"],
        funding={"call_deadline": _deadline(30)},
    )
    _create(api, title="Draft mentoring", status="draft")
    found = api.client.get("/api/v1/offers/search?q=mentoring").json()
    assert [item["offer"]["id"] for item in found["items"]] == [mentoring["id"]]
    assert found["total"] == 1 and found["peers"] == {"asked": [], "answered": [], "failed": []}
    assert found["items"][0]["why"][0]["reason"] == "text" and found["items"][0]["score"] > 0
    both = api.client.get("/api/v1/offers/search?objective=a&sort=deadline").json()
    assert [i["offer"]["title"] for i in both["items"]] == [
        "Ekonomia społeczna",
        "Mentoring dla młodzieży",
    ]
    reasons = [why for why in both["items"][0]["why"] if why["reason"] == "objective"]
    [detail] = [why["detail"] for why in reasons]
    assert detail.startswith("It shares the ESF+ objective Access to employment and activation")
    newest = api.client.get("/api/v1/offers/search?sort=newest&limit=1").json()
    assert newest["items"][0]["offer"]["title"] == "Ekonomia społeczna" and newest["next"]
    assert api.client.get(newest["next"]).json()["items"][0]["offer"]["id"] == mentoring["id"]
    sought = api.client.get("/api/v1/offers/search?countries_sought=IT,FR").json()
    assert [i["offer"]["id"] for i in sought["items"]] == [mentoring["id"]]
    assert api.client.get("/api/v1/offers/search?theme=social-economy").json()["total"] == 1
    path = _path(mentoring)
    api.client.post(f"{path}/status", json={"status": "filled"}, headers=api.auth("anna"))
    assert api.client.get("/api/v1/offers/search?q=mentoring").json()["total"] == 0
    assert api.client.get("/api/v1/offers/search?q=mentoring&status=filled").json()["total"] == 1
    api.client.delete(path, headers=api.auth("anna"))
    assert api.client.get("/api/v1/offers/search?status=filled").json()["total"] == 0
    bad = api.client.get("/api/v1/offers/search?theme=nothing&sort=oldest")
    assert bad.status_code == 422 and set(bad.json()["errors"]) == {"theme", "sort"}


def test_reasons_are_in_the_readers_language_and_results_export_as_csv(api: Api) -> None:
    offer = _create(api, title="Mentoring dla młodzieży", funding={"call_deadline": _deadline(20)})
    polish = {"Accept-Language": "pl"}
    found = api.client.get(
        "/api/v1/offers/search?q=mentoring&theme=social-inclusion", headers=polish
    )
    details = {why["reason"]: why["detail"] for why in found.json()["items"][0]["why"]}
    assert details["text"].startswith("Tekst zawiera: mentoring")
    assert details["deadline"] == "Nabór zamyka się za 20 dni."
    assert details["theme"].startswith("Wspólny temat: ")
    assert details["language"] == "Język pracy: polski."

    exported = api.client.get("/api/v1/offers/search?q=mentoring&format=csv")
    assert exported.status_code == 200
    assert exported.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [row["id"] for row in rows] == [offer["id"]]
    assert rows[0]["title"] == "Mentoring dla młodzieży" and rows[0]["countries_sought"] == "IT GR"
    assert "mentoring" in rows[0]["why"]
    by_header = api.client.get("/api/v1/offers/search?q=mentoring", headers={"Accept": "text/csv"})
    assert by_header.text == exported.text
    assert api.client.get("/api/v1/offers/search?format=xml").status_code == 422


def test_deadline_validation_and_origin_bounds(api: Api) -> None:
    _create(api, title="Soon", funding={"call_deadline": _deadline(40)})
    _create(api, title="Later", funding={"call_deadline": _deadline(200)})

    def titles(query: str) -> list[str]:
        answer = api.client.get("/api/v1/offers/search?sort=deadline&" + query)
        assert answer.status_code == 200, answer.text
        return [item["offer"]["title"] for item in answer.json()["items"]]

    assert titles(f"deadline_after={_deadline(100)}") == ["Later"]
    assert titles(f"deadline_before={_deadline(100)}") == ["Soon"]
    assert titles("validated=true") == [] and titles("validated=false") == ["Soon", "Later"]
    assert titles("origin=esf.test") == ["Soon", "Later"] and titles("origin=it.test") == []
    bad = api.client.get("/api/v1/offers/search?deadline_after=tomorrow&validated=maybe")
    assert bad.status_code == 422
    assert set(bad.json()["errors"]) == {"deadline_after", "validated"}
    assert api.client.get("/api/v1/offers/search?q=a%01b").status_code == 422
    empty = api.client.get("/api/v1/offers/search?deadline_before=&theme=")
    assert empty.status_code == 422
    assert empty.json()["errors"] == {
        "deadline_before": ["must not be empty"],
        "theme": ["must not be empty"],
    }
    assert api.client.get("/api/v1/offers/search?q=").status_code == 200
    assert api.client.get("/api/v1/offers/search?origin=a%20b").status_code == 422
