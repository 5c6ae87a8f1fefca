"""Saved searches on the web, in the API and as feeds: saved from the results page, listed,
deleted; alerts for new matching offers in the notifications; the RSS feed of each."""

from __future__ import annotations

import re
from collections.abc import Iterator

import feedparser
import pytest
from starlette.testclient import TestClient

from fedi.settings import Settings
from fedi.testing.web import csrf_token, sign_in
from fedi.web import create_app
from tests.web.test_discovery import bootstrap
from tests.web.test_offers import PASSWORD, _switch, _write


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    bootstrap(settings, "anna", "bob")
    with TestClient(create_app(settings), base_url=settings.base_url) as client:
        assert sign_in(client, "bob", PASSWORD).status_code == 303
        yield client


def test_a_search_saved_on_the_results_page_alerts_and_feeds(client: TestClient) -> None:
    page = client.get("/offers/search?q=mentoring&theme=social-inclusion")
    assert 'action="/offers/saved"' in page.text
    query = re.search(r'name="query" value="([^"]*)"', page.text)
    assert query is not None
    empty = client.post(
        "/offers/saved",
        data={"csrf_token": csrf_token(client), "name": " ", "query": query.group(1)},
        follow_redirects=False,
    )
    assert empty.status_code == 422 and 'href="#name"' in empty.text
    saved = client.post(
        "/offers/saved",
        data={"csrf_token": csrf_token(client), "name": "Mentoring", "query": query.group(1)},
        follow_redirects=False,
    )
    assert saved.status_code == 303 and saved.headers["location"] == "/offers/saved?done=saved"
    listed = client.get("/offers/saved?done=saved")
    assert "The search is saved." in listed.text and '<h2 class="h3">Mentoring</h2>' in listed.text
    feed_path = re.search(r'href="(/feeds/searches/[0-9a-f]{32}\.rss)"', listed.text)
    assert feed_path is not None

    _switch(client, "anna")
    _write(client)  # matches
    _write(client, title="Elsewhere", summary="Nothing alike.", description="Other words.")
    _switch(client, "bob")
    notes = client.get("/notifications")
    assert notes.text.count('<li class="notification') == 1
    assert "“Mentoring”: Mentoring for NEET youth" in notes.text

    feed = feedparser.parse(client.get(feed_path.group(1)).content)
    assert not feed.bozo and feed.feed.title == "Partner search: Mentoring"
    assert [entry.title for entry in feed.entries] == ["Mentoring for NEET youth"]
    assert client.get("/feeds/searches/" + "0" * 32 + ".rss").status_code == 404

    search_id = re.search(r'action="/offers/saved/(\d+)/delete"', listed.text)
    assert search_id is not None
    gone = client.post(
        f"/offers/saved/{search_id.group(1)}/delete",
        data={"csrf_token": csrf_token(client)},
        follow_redirects=False,
    )
    assert gone.status_code == 303
    assert "You have no saved searches yet." in client.get("/offers/saved").text
    assert client.get(feed_path.group(1)).status_code == 404
