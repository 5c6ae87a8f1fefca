from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from fedi.errors import ValidationError
from fedi.partners.fields import quality_faults, read_offer

TODAY = date(2027, 1, 10)


def offer_payload(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "purpose": "offer",
        "level": "project",
        "cooperation": ["transfer-of-practice"],
        "language": "pl",
        "title": "Mentoring dla młodzieży NEET",
        "summary": "Szukamy partnerów do przeniesienia metody mentoringu.",
        "description": "Nasz program **mentoringu** działa od 2019.",
        "translations": {"en": {"title": "Mentoring for NEET youth", "summary": "We seek."}},
        "working_languages": ["en", "pl"],
        "objectives": ["h", "a"],
        "themes": ["social-inclusion"],
        "target_groups": ["youth-neet"],
        "keywords": ["Mentoring", "mentoring", " peer  support "],
        "organisation": {
            "name": "Fundacja Przykład",
            "type": "ngo-civil-society",
            "country": "PL",
            "region": "Mazowieckie",
            "city": "Warszawa",
        },
        "countries_sought": ["IT", "EL"],
        "organisation_types_sought": ["public-employment-service"],
        "roles_sought": ["partner"],
        "partners_needed": 2,
        "funding": {
            "programme": "ESF+ PL FERS",
            "call_reference": "FERS.01.01-IP.01-001/27",
            "call_deadline": "2027-03-31",
            "planned_start": "2027-09-01",
            "duration_months": 24,
            "budget_min": 100000,
            "budget_max": 400000,
            "currency": "eur",
        },
    }
    payload.update(changes)
    return payload


def test_every_field_is_read_and_normalised() -> None:
    data = read_offer(offer_payload())
    assert data.purpose == "offer" and data.level == "project" and data.language == "pl"
    assert data.codes["objectives"] == ["h", "a"]
    assert data.codes["countries_sought"] == ["IT", "GR"]
    assert data.codes["keywords"] == ["mentoring", "peer support"]
    assert data.organisation["type"] == "ngo-civil-society"
    assert data.funding["call_deadline"] == date(2027, 3, 31)
    assert data.funding["currency"] == "EUR"
    assert data.translations["en"]["title"] == "Mentoring for NEET youth"
    assert data.translations["en"]["description"] == ""
    assert quality_faults(data, TODAY) == {}


def test_every_fault_is_named_by_its_field_path() -> None:
    payload = offer_payload(purpose="gift", themes=["nope"], partners_needed=0)
    payload["organisation"] = {**payload["organisation"], "type": "club", "country": "XX"}
    payload["funding"] = {**payload["funding"], "budget_min": 5, "budget_max": 1}
    payload["translations"] = {"pl": {"title": "x", "summary": "y"}}
    with pytest.raises(ValidationError) as caught:
        read_offer(payload)
    errors = caught.value.errors
    assert set(errors) == {
        "purpose",
        "themes",
        "partners_needed",
        "organisation.type",
        "organisation.country",
        "funding.budget_max",
        "translations.pl",
    }
    assert "allowed values" in errors["organisation.type"][0]


def test_required_fields_and_dates() -> None:
    payload = offer_payload(title=" ", funding={"call_deadline": "31.03.2027"})
    del payload["organisation"]
    with pytest.raises(ValidationError) as caught:
        read_offer(payload)
    errors = caught.value.errors
    assert errors["title"] == ["is required"]
    assert errors["funding.call_deadline"] == ["must be a date (YYYY-MM-DD)"]
    assert errors["organisation.name"] == ["is required"]


def test_more_than_three_objectives_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        read_offer(offer_payload(objectives=["a", "b", "c", "d"]))
    assert list(caught.value.errors) == ["objectives"]


def test_quality_checks_before_publication() -> None:
    past = read_offer(offer_payload(funding={"call_deadline": "2027-01-10"}))
    assert "funding.call_deadline" in quality_faults(past, TODAY)
    soon = read_offer(offer_payload(funding={"call_deadline": "2027-01-15"}))
    assert "last_minute" in quality_faults(soon, TODAY)["funding.call_deadline"][0]
    marked = read_offer(offer_payload(funding={"call_deadline": "2027-01-15"}, last_minute=True))
    assert quality_faults(marked, TODAY) == {}
    ten_days = read_offer(offer_payload(funding={"call_deadline": "2027-01-20"}))
    assert quality_faults(ten_days, TODAY) == {}
    no_objective = read_offer(offer_payload(objectives=[]))
    assert quality_faults(no_objective, TODAY) == {
        "objectives": ["choose at least one ESF+ objective"]
    }


def test_expires_must_not_pass_the_call_deadline() -> None:
    with pytest.raises(ValidationError) as caught:
        read_offer(offer_payload(expires="2027-04-01"))
    assert list(caught.value.errors) == ["expires"]
    assert read_offer(offer_payload(expires="2027-02-01")).expires == date(2027, 2, 1)


def test_keys_that_are_no_field_of_an_offer_are_named() -> None:
    payload = offer_payload(colour="red", status="draft")
    payload["organisation"] = {**payload["organisation"], "size": 3}
    payload["funding"] = {**payload["funding"], "budget_max": 3_000_000_000}
    payload["translations"] = {"en": {"title": "T", "summary": "S", "body": "B"}}
    with pytest.raises(ValidationError) as caught:
        read_offer(payload)
    errors = caught.value.errors
    assert errors["colour"] == ["is not a field of an offer"]
    assert errors["organisation.size"] == ["is not a field of an offer"]
    assert errors["translations.en.body"] == ["is not a field of an offer"]
    assert "between 0 and 2000000000" in errors["funding.budget_max"][0]
    assert "status" not in errors


def test_control_characters_are_refused_in_texts_and_keywords() -> None:
    payload = offer_payload(title="a NUL \u0000 here", keywords=["peer\u0000support"])
    with pytest.raises(ValidationError) as caught:
        read_offer(payload)
    assert caught.value.errors["title"] == ["must not contain control characters"]
    assert caught.value.errors["keywords"] == ["must not contain control characters"]
