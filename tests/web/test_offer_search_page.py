"""The partner search page: every filter as a form, results with why each matched in the
reader's language, a chart of the results by country with the same figures as a table, export
links, paging; a bad filter comes back at its field as a 422."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from fedi.settings import Settings
from fedi.testing.web import sign_in
from fedi.web import create_app
from fedi.web.offers import searching
from tests.web.test_discovery import bootstrap
from tests.web.test_offers import FORM, PASSWORD, _switch, _write


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    bootstrap(settings, "anna", "bob")
    with TestClient(create_app(settings), base_url=settings.base_url) as client:
        assert sign_in(client, "anna", PASSWORD).status_code == 303
        yield client


def test_results_say_why_and_chart_the_countries(client: TestClient) -> None:
    _write(client)
    _write(
        client,
        title="Cooperatives in Italy",
        summary="Social cooperatives seek partners.",
        description="Cooperatives of workers.",
        organisation_country="IT",
        themes=["social-economy"],
    )
    _switch(client, "bob")
    page = client.get("/offers/search?q=mentoring")
    assert page.status_code == 200
    assert "1 offer matches" in page.text
    assert "Mentoring for NEET youth" in page.text and "Cooperatives in Italy" not in page.text
    assert "Why it matched" in page.text and "Its text contains mentor" in page.text
    assert 'href="/api/v1/offers/search?q=mentoring&amp;format=csv&amp;limit=100"' in page.text

    everything = client.get("/offers/search", headers={"Accept-Language": "pl"})
    assert "Pasują 2 oferty" in everything.text
    svg = re.search(r"<svg[^>]*>(.*?)</svg>", everything.text, re.S)
    assert svg is not None and 'role="img"' in everything.text
    assert svg.group(1).count("<rect") == 2
    table = re.search(r'<table id="chart-table">(.*?)</table>', everything.text, re.S)
    assert table is not None
    assert "<td>Polska</td><td>1</td>" in table.group(1)
    assert "<td>Włochy</td><td>1</td>" in table.group(1)

    themed = client.get("/offers/search?theme=social-economy")
    assert "Cooperatives in Italy" in themed.text and "Mentoring for NEET youth" not in themed.text
    assert 'value="social-economy" selected' in themed.text
    # The form as a browser sends it: every empty field too.
    submitted = client.get("/offers/search?q=&purpose=&theme=social-economy&deadline_after=&sort=")
    assert submitted.status_code == 200 and "Cooperatives in Italy" in submitted.text


def test_a_bad_filter_is_shown_at_its_field(client: TestClient) -> None:
    page = client.get("/offers/search?theme=nothing&deadline_after=soon")
    assert page.status_code == 422
    assert "<title>Error:" in page.text
    assert 'href="#theme"' in page.text and 'href="#deadline_after"' in page.text
    assert (
        'id="theme-error"' in page.text and 'aria-describedby="deadline_after-error"' in page.text
    )
    assert "offer matches" not in page.text


def test_results_are_paged(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(searching, "PAGE_SIZE", 1)
    _write(client)
    _write(client, title="Second offer")
    first = client.get("/offers/search?sort=newest")
    assert "Second offer" in first.text and "Mentoring for NEET youth" not in first.text
    more = re.search(r'href="(/offers/search\?[^"]+)" rel="next"', first.text)
    assert more is not None
    second = client.get(more.group(1).replace("&amp;", "&"))
    assert "Mentoring for NEET youth" in second.text and 'start="2"' in second.text
    assert 'rel="next"' not in second.text
    assert FORM["title"] == "Mentoring for NEET youth"
