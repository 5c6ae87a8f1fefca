"""The forums' feeds, read back by feedparser: each forum's threads and every forum's, newest
first by their first post (a reply does not move a thread up), each entry its title, page,
author, date and excerpt; the pages point to them; the feed's head in the reader's language."""

from __future__ import annotations

import email.utils
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser
import pytest
from starlette.testclient import TestClient

from fedi.cli.common import run_in_session
from fedi.services import forums
from fedi.settings import Settings
from fedi.testing.web import csrf_token, sign_in
from fedi.web import create_app
from tests.web.test_discovery import bootstrap
from tests.web.test_experiences import FORM as EXPERIENCE
from tests.web.test_offers import FORM as OFFER

PASSWORD = "a long test password"
ATOM = "application/atom+xml; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    bootstrap(settings, "anna", "bob")

    async def work(session: Any) -> None:
        await forums.create_forum(session, settings, "reporting", "Reporting", "Indicators.")
        await forums.create_forum(session, settings, "audits", "Audits")

    run_in_session(settings, work)
    with TestClient(create_app(settings), base_url=settings.base_url) as client:
        yield client


def _start(client: TestClient, login: str, forum: str, title: str, body: str) -> str:
    """``login`` starts a thread in ``forum`` through the form; gives back its key."""
    client.cookies.clear()
    assert sign_in(client, login, PASSWORD).status_code == 303
    started = client.post(
        f"/forums/{forum}/threads",
        data={"csrf_token": csrf_token(client), "title": title, "body": body, "language": "en"},
        follow_redirects=False,
    )
    assert started.status_code == 303, started.text
    client.cookies.clear()
    found = re.fullmatch(r"/threads/(\d+)\?started=1", started.headers["location"])
    assert found is not None
    return found.group(1)


def _reply(client: TestClient, login: str, key: str) -> None:
    client.cookies.clear()
    sign_in(client, login, PASSWORD)
    replied = client.post(
        f"/threads/{key}/replies",
        data={"csrf_token": csrf_token(client), "body": "We count them twice."},
        follow_redirects=False,
    )
    assert replied.status_code == 303, replied.text
    client.cookies.clear()


def _parsed(client: TestClient, path: str, **headers: str) -> Any:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == (ATOM if path.endswith(".atom") else RSS)
    assert response.headers["vary"] == "Accept-Language, Cookie"
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == ("atom10" if path.endswith(".atom") else "rss20")
    return parsed


def _keys(parsed: Any) -> list[str]:
    return [str(entry.link).rsplit("/", 1)[1] for entry in parsed.entries]


def _moment(raw: str) -> datetime:
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        return email.utils.parsedate_to_datetime(raw)


def _object_uri(client: TestClient, key: str) -> str:
    page = client.get(f"/threads/{key}").text
    found = re.search(
        r'<link rel="alternate" type="application/activity\+json" href="([^"]+)"', page
    )
    assert found is not None
    return found.group(1)


def test_each_forum_feed_lists_its_threads_newest_first(
    client: TestClient, settings: Settings
) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    first = _start(client, "anna", "reporting", "Counting participants", "How do you count *them*?")
    second = _start(client, "bob", "reporting", "Indicators for 2028", "Which ones " * 80)
    elsewhere = _start(client, "anna", "audits", "Audit trail", "Keep every invoice.")
    # A reply makes the first thread the most recently active; the feed keeps the order in which
    # the threads were started.
    _reply(client, "bob", first)
    after = datetime.now(UTC) + timedelta(seconds=1)
    expected = {
        "/forums/reporting/feed": [second, first],
        "/forums/audits/feed": [elsewhere],
        "/feeds/forums": [elsewhere, second, first],
    }
    for path, keys in expected.items():
        for ending in ("atom", "rss"):
            parsed = _parsed(client, f"{path}.{ending}")
            assert _keys(parsed) == keys, (path, ending)
            by_key = dict(zip(_keys(parsed), parsed.entries, strict=True))
            if first in by_key:
                entry = by_key[first]
                assert entry.title == "Counting participants"
                assert entry.link == f"{settings.base_url}/threads/{first}"
                assert entry.id == _object_uri(client, first)
                assert entry.author == "anna"
                assert entry.summary == "How do you count them?"
                moment = _moment(entry.published)
                assert moment.utcoffset() is not None
                assert before <= moment <= after
                if ending == "atom":
                    assert entry.content[0].value == "<p>How do you count <em>them</em>?</p>"
            if second in by_key:
                # A long text is cut to an excerpt, at a word, with an ellipsis.
                summary = by_key[second].summary
                assert summary.startswith("Which ones Which ones")
                assert summary.endswith("…") and len(summary) <= 300
                assert by_key[second].author == "bob"
    reporting = _parsed(client, "/forums/reporting/feed.atom").feed
    assert reporting.title == f"Reporting · {settings.instance_name}"
    assert reporting.link == f"{settings.base_url}/forums/reporting"
    assert reporting.id == f"{settings.base_url}/forums/reporting/feed.atom"
    every = _parsed(client, "/feeds/forums.rss").feed
    assert every.link == f"{settings.base_url}/forums"


def test_an_empty_forum_has_an_empty_feed_and_an_unknown_one_none(client: TestClient) -> None:
    for ending in ("atom", "rss"):
        assert _parsed(client, f"/forums/audits/feed.{ending}").entries == []
        assert _parsed(client, f"/feeds/forums.{ending}").entries == []
        for slug in ("nobody", "network", "anna"):
            response = client.get(f"/forums/{slug}/feed.{ending}")
            assert response.status_code == 404, slug


def test_the_forum_pages_point_to_their_feeds(client: TestClient) -> None:
    page = client.get("/forums/reporting").text
    assert (
        '<link rel="alternate" type="application/atom+xml" href="/forums/reporting/feed.atom"'
        in page
    )
    assert 'type="application/rss+xml" href="/forums/reporting/feed.rss"' in page
    assert 'href="/forums/reporting/feed.atom" type="application/atom+xml">Subscribe (Atom)' in page
    listing = client.get("/forums").text
    assert '<link rel="alternate" type="application/atom+xml" href="/feeds/forums.atom"' in listing
    assert 'href="/feeds/forums.rss" type="application/rss+xml">Subscribe (RSS)' in listing
    polish = client.get("/forums/reporting", headers={"Accept-Language": "pl"}).text
    assert "Subskrybuj (RSS)" in polish


def test_the_forum_feeds_speak_the_reader_language(client: TestClient) -> None:
    parsed = _parsed(client, "/forums/reporting/feed.atom", **{"Accept-Language": "pl"})
    assert parsed.feed.language == "pl"
    assert parsed.feed.subtitle == "Wątki rozpoczęte na forum Reporting"
    every = _parsed(client, "/feeds/forums.rss", **{"Accept-Language": "pl"})
    assert every.feed.title.startswith("Fora · ")
    english = _parsed(client, "/forums/reporting/feed.rss")
    assert english.feed.description == "Threads started in the forum Reporting"


def test_the_network_feed_holds_what_the_network_announces(
    client: TestClient, settings: Settings
) -> None:
    """Experiences, thread starts and partner offers written here, newest first; not the
    replies, which stay with their threads."""
    client.cookies.clear()
    sign_in(client, "anna", PASSWORD)
    written = client.post(
        "/experiences/new",
        data={"csrf_token": csrf_token(client), **EXPERIENCE, "action": "save"},
        follow_redirects=False,
    )
    assert written.status_code == 303, written.text
    experience = written.headers["location"].split("?")[0]
    thread = _start(client, "bob", "reporting", "Counting participants", "How do you count?")
    _reply(client, "anna", thread)
    sign_in(client, "bob", PASSWORD)
    offered = client.post(
        "/offers/new",
        data={"csrf_token": csrf_token(client), **OFFER, "action": "publish"},
        follow_redirects=False,
    )
    assert offered.status_code == 303, offered.text
    offer = offered.headers["location"].split("?")[0]
    client.cookies.clear()
    base = settings.base_url
    for ending in ("atom", "rss"):
        parsed = _parsed(client, f"/feeds/network.{ending}")
        links = [entry.link for entry in parsed.entries]
        assert links == [f"{base}{offer}", f"{base}/threads/{thread}", f"{base}{experience}"]
        titles = [entry.title for entry in parsed.entries]
        assert titles == [OFFER["title"], "Counting participants", EXPERIENCE["title"]]
        assert [entry.author for entry in parsed.entries] == ["bob", "bob", "anna"]
        assert parsed.entries[0].summary == OFFER["summary"]
