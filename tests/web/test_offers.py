"""The partner offer pages: write in the form (a draft or published), refusals tied to their
fields with nothing stored, the list, the offer's page, the author's status buttons, edits;
drafts hidden from others."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from fedi.settings import Settings
from fedi.testing.web import csrf_token, sign_in
from fedi.web import create_app
from tests.web.test_discovery import bootstrap

PASSWORD = "a long test password"
DEADLINE = (datetime.now(UTC).date() + timedelta(days=60)).isoformat()
FORM: dict[str, Any] = {
    "purpose": "offer",
    "level": "project",
    "cooperation": ["transfer-of-practice"],
    "language": "en",
    "title": "Mentoring for NEET youth",
    "summary": "We bring a mentoring method and seek two partners.",
    "description": "Mentors meet *every week*.\n\n<script>alert(1)</script>",
    "working_languages": ["en", "pl"],
    "objectives": ["h", "a"],
    "themes": ["social-inclusion"],
    "target_groups": ["youth-neet"],
    "organisation_name": "Fundacja Przykład",
    "organisation_type": "ngo-civil-society",
    "organisation_country": "PL",
    "organisation_city": "Warszawa",
    "countries_sought": ["IT", "ES"],
    "organisation_types_sought": ["public-employment-service"],
    "roles_sought": ["partner"],
    "partners_needed": "2",
    "call_deadline": DEADLINE,
    "programme": "ESF+ PL FERS",
}


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    bootstrap(settings, "anna", "bob")
    with TestClient(create_app(settings), base_url=settings.base_url) as client:
        yield client


def _post(client: TestClient, path: str, data: dict[str, Any], **kwargs: Any) -> httpx.Response:
    response: httpx.Response = client.post(
        path, data={"csrf_token": csrf_token(client), **data}, follow_redirects=False, **kwargs
    )
    return response


def _write(client: TestClient, action: str = "publish", **changes: Any) -> str:
    response = _post(client, "/offers/new", {**FORM, **changes, "action": action})
    assert response.status_code == 303, response.text
    path, notice = response.headers["location"].split("?")
    assert path.startswith("/offers/")
    assert notice == ("done=published" if action == "publish" else "done=draft")
    return path


def _switch(client: TestClient, login: str) -> None:
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    assert sign_in(client, login, PASSWORD).status_code == 303


def test_the_empty_list_says_so_and_only_members_write(client: TestClient) -> None:
    assert client.get("/offers/new", follow_redirects=False).status_code == 303
    page = client.get("/offers")
    assert page.status_code == 200 and "No partner offers are published yet." in page.text
    assert 'href="/login"' in page.text
    polish = client.get("/offers", headers={"Accept-Language": "pl"})
    assert "Nie opublikowano jeszcze żadnej oferty partnerskiej." in polish.text
    assert '<li><a href="/offers" aria-current="page">Partner offers</a></li>' in page.text
    sign_in(client, "anna", PASSWORD)
    assert 'href="/offers/new">' in client.get("/offers").text


def test_a_member_publishes_an_offer_everyone_reads(client: TestClient) -> None:
    sign_in(client, "anna", PASSWORD)
    form = client.get("/offers/new")
    assert form.status_code == 200
    assert 'id="objectives-h" name="objectives" value="h"' in form.text
    assert "Social inclusion" in form.text
    polish_form = client.get("/offers/new", headers={"Accept-Language": "pl"})
    assert "Włączenie społeczne" in polish_form.text and "Zapisz jako szkic" in polish_form.text
    path = _write(client)
    _switch(client, "bob")
    page = client.get(path)
    assert page.status_code == 200
    assert "<h1>Mentoring for NEET youth</h1>" in page.text
    assert "<em>every week</em>" in page.text and "&lt;script&gt;" in page.text
    assert "Fundacja Przykład" in page.text and "Published" in page.text
    assert "Public employment service" in page.text
    assert f'href="{path}/edit"' not in page.text and 'name="status"' not in page.text
    polish = client.get(path, headers={"Accept-Language": "pl"})
    assert "Włączenie społeczne" in polish.text and "Opublikowano" in polish.text
    listed = client.get("/offers").text
    assert f'href="{path}"' in listed and "Fundacja Przykład" in listed
    assert "Social inclusion" in listed and "Offer" in listed
    # Another member may neither edit nor change its status.
    assert client.get(f"{path}/edit").status_code == 403
    assert _post(client, f"{path}/status", {"status": "withdrawn"}).status_code == 403
    assert _post(client, f"{path}/edit", {**FORM, "title": "Mine now"}).status_code == 403
    assert "<h1>Mentoring for NEET youth</h1>" in client.get(path).text


def test_refused_fields_come_back_with_their_errors_and_nothing_is_stored(
    client: TestClient,
) -> None:
    sign_in(client, "anna", PASSWORD)
    response = _post(
        client,
        "/offers/new",
        {
            **FORM,
            "title": " ",
            "themes": ["nonsense"],
            "objectives": [],
            "partners_needed": "many",
            "action": "publish",
        },
    )
    assert response.status_code == 422
    page = response.text
    assert '<a href="#title">Title: This field is required.</a>' in page
    assert '<a href="#themes">Themes: Choose one of the values offered.</a>' in page
    assert (
        '<a href="#partners_needed">Number of partners needed: '
        "Enter a whole number from 1 to 100.</a>" in page
    )
    assert 'id="title" name="title" type="text" value=" "' in page
    assert 'value="Fundacja Przykład"' in page  # the other values are kept
    assert 'id="countries_sought-IT" name="countries_sought" value="IT" checked' in page
    # The quality check of publication: an objective, a deadline in the future.
    late = _post(client, "/offers/new", {**FORM, "objectives": [], "action": "publish"})
    assert late.status_code == 422
    assert "Choose at least one ESF+ objective to publish the offer." in late.text
    past = _post(
        client, "/offers/new", {**FORM, "call_deadline": "2020-01-01", "action": "publish"}
    )
    assert past.status_code == 422 and 'href="#call_deadline"' in past.text
    polish = _post(
        client,
        "/offers/new",
        {**FORM, "title": "", "action": "draft"},
        headers={"Accept-Language": "pl"},
    )
    assert polish.status_code == 422 and "Tytuł: To pole jest wymagane." in polish.text
    assert "No partner offers are published yet." in client.get("/offers").text
    assert client.get("/offers/1").status_code == 404


def test_a_draft_is_seen_only_by_its_author_until_published(client: TestClient) -> None:
    sign_in(client, "anna", PASSWORD)
    path = _write(client, action="draft", objectives=[])
    mine = client.get(path)
    assert mine.status_code == 200 and "Only you can see this draft" in mine.text
    assert "No partner offers are published yet." in client.get("/offers").text
    _switch(client, "bob")
    assert client.get(path).status_code == 404
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    assert client.get(path).status_code == 404
    sign_in(client, "anna", PASSWORD)
    # Publishing it needs an objective: refused on the page, then fixed in the edit form.
    refused = _post(client, f"{path}/status", {"status": "published"})
    assert refused.status_code == 422
    assert "Choose at least one ESF+ objective to publish the offer." in refused.text
    edit = client.get(f"{path}/edit")
    assert edit.status_code == 200 and 'value="Mentoring for NEET youth"' in edit.text
    published = _post(
        client, f"{path}/edit", {**FORM, "title": "Mentoring, two years on", "action": "publish"}
    )
    assert published.status_code == 303
    assert published.headers["location"] == f"{path}?done=published"
    _switch(client, "bob")
    assert "<h1>Mentoring, two years on</h1>" in client.get(path).text


def test_the_author_marks_it_filled_then_withdraws_it(client: TestClient) -> None:
    sign_in(client, "anna", PASSWORD)
    path = _write(client)
    page = client.get(path).text
    assert f'href="{path}/edit"' in page and 'value="filled"' in page
    filled = _post(client, f"{path}/status", {"status": "filled"})
    assert filled.status_code == 303 and filled.headers["location"] == f"{path}?done=filled"
    shown = client.get(filled.headers["location"]).text
    assert "The offer is marked as filled." in shown and "Filled" in shown
    assert f'href="{path}"' not in client.get("/offers").text  # only published ones are listed
    saved = _post(
        client, f"{path}/edit", {**FORM, "summary": "Two partners found.", "action": "draft"}
    )
    assert saved.status_code == 303 and saved.headers["location"] == f"{path}?done=saved"
    assert "Two partners found." in client.get(path).text
    withdrawn = _post(client, f"{path}/status", {"status": "withdrawn"})
    assert withdrawn.status_code == 303
    assert client.get(f"{path}/edit").status_code == 409
    assert _post(client, f"{path}/status", {"status": "published"}).status_code == 409
    _switch(client, "bob")
    assert client.get(path).status_code == 404


FULL: dict[str, Any] = {
    **FORM,
    "keywords": "mentoring, Job coaching",
    "organisation_region": "Mazowieckie",
    "call_reference": "FERS.01.05-IP.08-002/25",
    "planned_start": (datetime.now(UTC).date() + timedelta(days=120)).isoformat(),
    "duration_months": "24",
    "budget_min": "100000",
    "budget_max": "250000",
    "currency": "eur",
    "tr0_language": "pl",
    "tr0_title": "Mentoring dla młodzieży NEET",
    "tr0_summary": "Wnosimy metodę mentoringu i szukamy dwóch partnerów.",
    "tr0_description": "Mentorzy spotykają się co tydzień.",
}


def test_every_field_and_a_translation_are_written_in_the_form_and_kept_by_an_edit(
    client: TestClient,
) -> None:
    sign_in(client, "anna", PASSWORD)
    path = _write(client, **{k: v for k, v in FULL.items() if k not in FORM})
    page = client.get(path).text
    assert "mentoring, job coaching" in page  # keywords are kept folded
    assert "Mazowieckie" in page and "FERS.01.05-IP.08-002/25" in page
    assert "24 months" in page and "100,000 \N{EN DASH} 250,000 EUR" in page
    assert 'href="?lang=pl"' in page  # the other language is offered
    polish = client.get(path, headers={"Accept-Language": "pl"}).text
    assert "<h1>Mentoring dla młodzieży NEET</h1>" in polish
    assert 'href="?lang=en"' in polish and "24 miesiące" in polish
    assert "<h1>Mentoring for NEET youth</h1>" in client.get(f"{path}?lang=en").text
    # The edit form shows every value, the translation in its slot and room for one more.
    edit = client.get(f"{path}/edit").text
    assert 'value="mentoring, job coaching"' in edit and 'value="Mazowieckie"' in edit
    assert 'value="Mentoring dla młodzieży NEET"' in edit and 'name="tr1_language"' in edit
    assert 'value="250000"' in edit and 'value="EUR"' in edit
    # Saving the form as it is loses nothing that was written.
    fields = {**FULL, "keywords": "mentoring, job coaching", "currency": "EUR"}
    assert _post(client, f"{path}/edit", {**fields, "action": "draft"}).status_code == 303
    again = client.get(f"{path}/edit").text
    assert 'value="Mentoring dla młodzieży NEET"' in again and 'value="24"' in again
    # Bad values in the new fields are refused at their fields, nothing stored.
    refused = _post(
        client,
        f"{path}/edit",
        {
            **fields,
            "budget_min": "300000",
            "duration_months": "500",
            "currency": "euro",
            "tr0_language": "en",
            "action": "draft",
        },
    )
    assert refused.status_code == 422
    assert "Largest budget: The largest budget cannot be less than the smallest." in refused.text
    assert "Duration in months: Enter a whole number from 1 to 120." in refused.text
    assert "Currency: Give the currency as its three-letter code" in refused.text
    assert "This is the language of the original; choose another one." in refused.text
    assert "24 months" in client.get(path).text


def test_the_preview_shows_the_offer_as_other_servers_read_it_and_stores_nothing(
    client: TestClient,
) -> None:
    sign_in(client, "anna", PASSWORD)
    preview = _post(client, "/offers/new", {**FULL, "action": "preview"})
    assert preview.status_code == 200
    assert 'aria-labelledby="preview-heading"' in preview.text
    assert "<li>Fundacja Przykład (Poland)</li>" in preview.text
    assert "<em>every week</em>" in preview.text and "<script>alert" not in preview.text
    assert 'value="Mentoring dla młodzieży NEET"' in preview.text  # the form keeps its values
    assert client.get("/offers/1").status_code == 404
    bad = _post(client, "/offers/new", {**FULL, "title": "", "action": "preview"})
    assert bad.status_code == 422
    assert '<a href="#title">Title: This field is required.</a>' in bad.text
    assert 'aria-labelledby="preview-heading"' not in bad.text
