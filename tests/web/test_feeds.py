"""The Atom and RSS feeds, read back by feedparser as feed readers do: well formed, the right
entries newest first, the list page's filters, timezone-aware dates, a member's own."""

from __future__ import annotations

import email.utils
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import feedparser
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.testclient import TestClient

from fedi.cli.common import run_in_session
from fedi.content.experiences.service import create_experience
from fedi.db.models import Actor
from fedi.settings import Settings
from fedi.testing.web import csrf_token, sign_in
from fedi.web import create_app
from tests.web.test_discovery import bootstrap
from tests.web.test_experiences import FORM, PASSWORD

ATOM = "application/atom+xml; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"
FEEDS = [
    "/feeds/experiences.atom",
    "/feeds/experiences.rss",
    "/feeds/network.atom",
    "/feeds/network.rss",
    "/users/anna/feed.atom",
    "/users/anna/feed.rss",
]


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    bootstrap(settings, "anna", "bob")
    with TestClient(create_app(settings), base_url=settings.base_url) as client:
        yield client


def _write(client: TestClient, login: str, **changes: Any) -> str:
    """Sign ``login`` in, write an experience through the form, and give back its key."""
    client.cookies.clear()
    assert sign_in(client, login, PASSWORD).status_code == 303
    data = {"csrf_token": csrf_token(client), **FORM, **changes, "action": "save"}
    response = client.post("/experiences/new", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text
    client.cookies.clear()
    return str(response.headers["location"].split("?")[0].rsplit("/", 1)[1])


def _parsed(client: TestClient, path: str) -> Any:
    response = client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == (ATOM if ".atom" in path else RSS)
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == ("atom10" if ".atom" in path else "rss20")
    return feed


def _keys(feed: Any) -> list[str]:
    return [str(entry.link).rsplit("/", 1)[1] for entry in feed.entries]


def _moment(raw: str) -> datetime:
    """A date as the feed wrote it: ISO 8601 in Atom, RFC 822 in RSS."""
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        return email.utils.parsedate_to_datetime(raw)


def test_every_feed_parses_with_its_entries_newest_first(
    client: TestClient, settings: Settings
) -> None:
    first = _write(client, "anna")
    second = _write(client, "anna", title="Partnership agreement template", themes=["partnership"])
    other = _write(client, "bob", title="Bob's story", summary="", themes=[])
    expected = {
        "/feeds/experiences": [other, second, first],
        "/feeds/network": [other, second, first],
        "/users/anna/feed": [second, first],
    }
    for path in FEEDS:
        feed = _parsed(client, path)
        assert _keys(feed) == expected[path.rsplit(".", 1)[0]], path
        entry = feed.entries[-1]
        assert entry.title == "Mentoring young migrants"
        assert entry.link == f"{settings.base_url}/experiences/{first}"
        assert entry.id == f"{settings.base_url}/objects/{first}"
        assert entry.summary == "What worked in three regions."
        assert entry.author == "anna"
        # Atom carries the theme's code with its label; RSS has room for the label alone.
        if path.endswith(".atom"):
            assert [(tag.term, tag.label) for tag in entry.tags] == [
                ("migrant-integration", "Integration of migrants")
            ]
        else:
            assert [tag.term for tag in entry.tags] == ["Integration of migrants"]
        assert entry.tags[0].scheme == f"{settings.base_url}/api/v1/vocabularies/themes"
        published = client.get(f"/api/v1/experiences/{first}").json()["published"]
        dates = (entry.published, entry.updated) if path.endswith(".atom") else (entry.published,)
        for raw in dates:
            moment = _moment(raw)
            assert moment.tzinfo is not None and moment.utcoffset() is not None, raw
            assert moment == datetime.fromisoformat(published), (path, raw)
        assert "<em>every week</em>" in entry.content[0].value
        assert "<script>" not in entry.content[0].value
        assert "script" not in (entry.get("summary_detail") or {}).get("value", "")
    network = _parsed(client, "/feeds/network.atom").feed
    assert network.title == settings.instance_name
    assert network.link == f"{settings.base_url}/"
    atom = _parsed(client, "/feeds/experiences.atom").feed
    assert atom.title == f"Experiences · {settings.instance_name}"
    assert atom.id == f"{settings.base_url}/feeds/experiences.atom"
    assert _parsed(client, "/users/bob/feed.rss").feed.link == f"{settings.base_url}/users/bob"


def test_an_edited_experience_has_both_dates_and_a_deleted_one_leaves(client: TestClient) -> None:
    kept = _write(client, "anna")
    gone = _write(client, "anna", title="To be deleted")
    sign_in(client, "anna", PASSWORD)
    edited = client.post(
        f"/experiences/{kept}/edit",
        data={"csrf_token": csrf_token(client), **FORM, "title": "Edited", "action": "save"},
        follow_redirects=False,
    )
    assert edited.status_code == 303, edited.text
    deleted = client.post(
        f"/experiences/{gone}/delete",
        data={"csrf_token": csrf_token(client)},
        follow_redirects=False,
    )
    assert deleted.status_code == 303
    stored = client.get(f"/api/v1/experiences/{kept}").json()
    assert stored["updated"] is not None
    for path in FEEDS:
        feed = _parsed(client, path)
        assert _keys(feed) == [kept], path
        entry = feed.entries[0]
        assert entry.title == "Edited"
        assert _moment(entry.published) == datetime.fromisoformat(stored["published"])
        if path.endswith(".atom"):  # RSS 2.0 has no date of change
            assert _moment(entry.updated) == datetime.fromisoformat(stored["updated"])
    atom = _parsed(client, "/feeds/experiences.atom")
    assert _moment(atom.feed.updated) == _moment(atom.entries[0].updated)


def test_the_experiences_feed_keeps_the_list_filters(client: TestClient) -> None:
    first = _write(client, "anna")
    second = _write(
        client,
        "bob",
        kind="resource",
        title="Partnership agreement template",
        country="DE",
        objectives=[],
        themes=["partnership"],
        target_groups=[],
        tags="template",
        tr0_language="",
    )
    for ending in ("atom", "rss"):

        def found(query: str, ending: str = ending) -> list[str]:
            return _keys(_parsed(client, f"/feeds/experiences.{ending}?{query}"))

        assert found("") == [second, first]
        assert found("country=PL") == [first]
        assert found("country=DE") == [second]
        assert found("objective=i") == [first]
        assert found("theme=partnership") == [second]
        assert found("target_group=youth-neet") == [first]
        assert found("kind=resource") == [second]
        assert found("tag=template") == [second]
        assert found("q=mentoring") == [first]
        assert found("country=PL&theme=partnership") == []
    atom = _parsed(client, "/feeds/experiences.atom?country=PL&theme=migrant-integration")
    assert atom.feed.id.endswith("/feeds/experiences.atom?country=PL&theme=migrant-integration")
    assert atom.feed.link.endswith("/experiences?country=PL&theme=migrant-integration")


@pytest.mark.parametrize(
    "query", ["country=XX", "theme=no-such-theme", "objective=z", "target_group=cats", "kind=x"]
)
def test_a_bad_filter_is_refused_in_plain_words(client: TestClient, query: str) -> None:
    for ending in ("atom", "rss"):
        response = client.get(f"/feeds/experiences.{ending}?{query}")
        assert response.status_code == 400
        assert response.headers["content-type"].startswith("text/plain")
        name, value = query.split("=")
        assert f"{name}: '{value}' is not a known value" in response.text


def test_unknown_members_and_groups_have_no_feed(client: TestClient, settings: Settings) -> None:
    for name in ("nobody", settings.network_handle, "ANNA-not"):
        for ending in ("atom", "rss"):
            assert client.get(f"/users/{name}/feed.{ending}").status_code == 404
    instance_actor = client.get("/actor", headers={"Accept": "application/activity+json"})
    username = instance_actor.json()["preferredUsername"]
    assert client.get(f"/users/{username}/feed.atom").status_code == 404
    assert client.get("/users/ANNA/feed.atom").status_code == 200


def test_a_feed_holds_the_newest_fifty(client: TestClient, settings: Settings) -> None:
    async def write(session: AsyncSession) -> list[str]:
        author = await session.scalar(select(Actor).where(Actor.username == "anna"))
        assert author is not None
        keys = []
        for number in range(51):
            fields = {
                "kind": "experience",
                "language": "en",
                "title": f"Number {number}",
                "body": "Text.",
            }
            view = await create_experience(session, settings, author, fields)
            keys.append(view.key)
        await session.commit()
        return keys

    keys: list[str] = run_in_session(settings, write)
    for path in FEEDS:
        feed = _parsed(client, path)
        assert _keys(feed) == keys[:0:-1], path
        assert feed.entries[0].title == "Number 50"
        # Without a summary, RSS's description is the text itself.
        newest = feed.entries[0]
        body = newest.content[0].value if path.endswith(".atom") else newest.description
        assert body == "<p>Text.</p>"


def test_text_xml_cannot_carry_is_left_out(client: TestClient) -> None:
    # Control characters are refused when an experience is written; the noncharacters U+FFFE
    # and U+FFFF are text to Unicode but not to XML 1.0.
    key = _write(client, "anna", title="Non\ufffecharacter", summary="Two\uffff of them")
    for path in FEEDS:
        entry = _parsed(client, path).entries[0]
        assert _keys(_parsed(client, path)) == [key]
        assert entry.title == "Noncharacter"


def test_the_pages_point_to_their_feeds(client: TestClient) -> None:
    page = client.get("/experiences?country=PL&theme=migrant-integration&before=9")
    feed = "/feeds/experiences.atom?country=PL&amp;theme=migrant-integration"
    assert f'<link rel="alternate" type="application/atom+xml" href="{feed}"' in page.text
    assert f'href="{feed}" type="application/atom+xml">Subscribe (Atom)</a>' in page.text
    unfiltered = client.get("/experiences").text
    assert 'type="application/atom+xml" href="/feeds/experiences.atom"' in unfiltered
    assert 'href="/feeds/experiences.rss" type="application/rss+xml">Subscribe (RSS)' in unfiltered
    polish = client.get("/experiences", headers={"Accept-Language": "pl"}).text
    assert "Subskrybuj (Atom)" in polish
    home = client.get("/").text
    assert '<link rel="alternate" type="application/atom+xml" href="/feeds/network.atom"' in home
    member = client.get("/users/anna").text
    assert 'type="application/atom+xml" href="/users/anna/feed.atom"' in member
    group = client.get("/groups/network").text
    assert "feed.atom" not in group


def test_feeds_speak_the_reader_language(client: TestClient) -> None:
    feed = client.get("/feeds/experiences.atom", headers={"Accept-Language": "pl"})
    parsed = feedparser.parse(feed.content)
    assert not parsed.bozo
    assert parsed.feed.title.startswith("Doświadczenia · ")
    assert parsed.feed.language == "pl"
    assert feed.headers["vary"] == "Accept-Language, Cookie"
    client.cookies.set("fedi_lang", "pl", domain="esf.test")
    rss = feedparser.parse(client.get("/feeds/network.rss").content)
    assert rss.feed.description.startswith("Wszystko, co opublikowano publicznie w sieci ")
