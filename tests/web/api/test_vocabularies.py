"""``/api/v1/vocabularies``: every list, labelled in the request's language."""

from __future__ import annotations

import pytest

from fedi.vocabulary import VOCABULARY_NAMES, vocabulary
from tests.web.api.conftest import Api


def test_the_list_names_every_vocabulary(api: Api) -> None:
    answer = api.client.get("/api/v1/vocabularies")
    assert answer.status_code == 200
    body = answer.json()
    assert [item["name"] for item in body["items"]] == list(VOCABULARY_NAMES)
    assert body["total"] == len(VOCABULARY_NAMES) and body["next"] is None
    assert body["items"][1]["url"] == "https://esf.test/api/v1/vocabularies/objectives"


@pytest.mark.parametrize(
    ("accept", "locale", "label"),
    [
        (None, "en", "Women"),
        ("pl", "pl", "Kobiety"),
        ("pl-PL,pl;q=0.9,en;q=0.8", "pl", "Kobiety"),
        ("de;q=1, en;q=0.5, pl;q=0.7", "pl", "Kobiety"),
        ("fr", "en", "Women"),
        ("en-GB, pl;q=0.1", "en", "Women"),
    ],
)
def test_labels_follow_accept_language(
    api: Api, accept: str | None, locale: str, label: str
) -> None:
    headers = {} if accept is None else {"Accept-Language": accept}
    answer = api.client.get("/api/v1/vocabularies/target-groups", headers=headers)
    assert answer.status_code == 200
    assert answer.headers["content-language"] == locale
    body = answer.json()
    assert body["locale"] == locale
    assert {"code": "women", "label": label} in body["items"]


def test_languages_carry_their_own_names_and_countries_their_aliases(api: Api) -> None:
    languages = api.client.get("/api/v1/vocabularies/languages", headers={"Accept-Language": "pl"})
    assert {"code": "de", "label": "niemiecki", "native": "Deutsch"} in languages.json()["items"]
    countries = api.client.get("/api/v1/vocabularies/countries").json()
    assert countries["aliases"] == {"EL": "GR"}
    assert len(countries["items"]) == len(vocabulary("countries").terms)


def test_an_unknown_vocabulary_is_a_404_problem(api: Api) -> None:
    answer = api.client.get("/api/v1/vocabularies/planets")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json() == {
        "status": 404,
        "title": "Not Found",
        "detail": "no vocabulary 'planets'",
    }
