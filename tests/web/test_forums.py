"""A forum over HTTP: its Group document (FEP-1b12 shape), its page, WebFinger, its moderators."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.testclient import TestClient

from fedi.cli.common import run_in_session
from fedi.crypto.keys import ed25519_public_key_from_multibase, load_public_key_pem
from fedi.db.models import Role
from fedi.services import forums, members
from fedi.settings import Settings
from fedi.testing.web import sign_in
from fedi.web import create_app
from tests.conftest import make_settings
from tests.web.test_discovery import bootstrap

AS2 = "application/activity+json"
FORUM = "https://esf.test/groups/employment"
SUMMARY = "Jobs & skills <for all>.\nEvery region.\n\nA second paragraph."


def add_forum_and_moderators(settings: Settings) -> None:
    """anna (member) from ``bootstrap``; zoe (admin), mod (moderator), off (disabled moderator);
    the forum ``employment``."""

    async def work(session: AsyncSession) -> None:
        await forums.create_forum(session, settings, "employment", "Employment", SUMMARY)
        for login, role in (("zoe", Role.ADMIN), ("mod", Role.MODERATOR), ("off", Role.MODERATOR)):
            await members.add_member(session, settings, login, "a long test password", role)
        (await members.find_member(session, "off")).disabled = True

    run_in_session(settings, work)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    bootstrap(settings, "anna")
    add_forum_and_moderators(settings)
    with TestClient(create_app(settings), base_url=settings.base_url) as client:
        yield client


def test_the_forum_is_a_group_lemmy_and_mbin_can_follow(client: TestClient) -> None:
    response = client.get("/groups/employment", headers={"Accept": AS2})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(AS2)
    actor = response.json()
    assert actor["id"] == FORUM
    assert actor["type"] == "Group"
    assert actor["preferredUsername"] == "employment"
    assert actor["name"] == "Employment"
    # Plain text becomes HTML, escaped: Lemmy, Mbin and Mastodon read summary as HTML.
    assert actor["summary"] == (
        "<p>Jobs &amp; skills &lt;for all&gt;.<br>Every region.</p><p>A second paragraph.</p>"
    )
    assert actor["url"] == FORUM
    for name in ("inbox", "outbox", "followers", "following"):
        assert actor[name] == f"{FORUM}/{name}"
    assert actor["endpoints"] == {"sharedInbox": "https://esf.test/inbox"}
    assert actor["manuallyApprovesFollowers"] is False
    assert actor["attributedTo"] == f"{FORUM}/moderators"
    assert actor["publicKey"]["id"] == f"{FORUM}#main-key"
    assert actor["publicKey"]["owner"] == FORUM
    load_public_key_pem(actor["publicKey"]["publicKeyPem"])
    (multikey,) = actor["assertionMethod"]
    assert multikey["controller"] == FORUM
    ed25519_public_key_from_multibase(multikey["publicKeyMultibase"])
    # Every collection the document names answers.
    for name in ("outbox", "followers", "following", "attributedTo"):
        path = actor[name].removeprefix("https://esf.test")
        assert client.get(path, headers={"Accept": AS2}).status_code == 200, name


def test_the_moderators_collection_lists_active_admins_and_moderators(client: TestClient) -> None:
    response = client.get("/groups/employment/moderators", headers={"Accept": AS2})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(AS2)
    assert response.json() == {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{FORUM}/moderators",
        "type": "OrderedCollection",
        "totalItems": 2,
        "orderedItems": ["https://esf.test/users/mod", "https://esf.test/users/zoe"],
    }


def test_only_forums_have_moderators(client: TestClient) -> None:
    network = client.get("/groups/network", headers={"Accept": AS2}).json()
    assert "attributedTo" not in network
    person = client.get("/users/anna", headers={"Accept": AS2}).json()
    assert "attributedTo" not in person
    for path in (
        "/groups/network/moderators",
        "/groups/nobody/moderators",
        "/groups/anna/moderators",
        "/users/anna/moderators",
    ):
        assert client.get(path, headers={"Accept": AS2}).status_code == 404, path
    # A forum is a group: it is not served as a person.
    assert client.get("/users/employment", headers={"Accept": AS2}).status_code == 404


def test_the_forum_page_for_people(client: TestClient) -> None:
    response = client.get("/groups/employment", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["vary"] == "Accept"
    assert "<h1>Employment</h1>" in response.text
    assert "@employment@esf.test · a forum of ESF test network" in response.text
    assert "Jobs &amp; skills &lt;for all&gt;." in response.text
    assert "<p>A second paragraph.</p>" in response.text
    assert f'<link rel="alternate" type="application/activity+json" href="{FORUM}">' in (
        response.text
    )
    network = client.get("/groups/network", headers={"Accept": "text/html"}).text
    assert "a forum of" not in network


@pytest.mark.parametrize(
    "resource", ["acct:employment@esf.test", "acct:Employment@esf.test", FORUM]
)
def test_webfinger_finds_the_forum(client: TestClient, resource: str) -> None:
    response = client.get("/.well-known/webfinger", params={"resource": resource})
    assert response.status_code == 200
    document = response.json()
    assert document["subject"] == "acct:employment@esf.test"
    assert {"rel": "self", "type": AS2, "href": FORUM} in document["links"]
    assert FORUM in document["aliases"]


def test_the_front_page_lists_the_forums(client: TestClient) -> None:
    page = client.get("/").text
    assert '<h2 id="forums">Forums</h2>' in page
    assert "This network has 1 thematic forum." in page
    assert f'<a href="{FORUM}">Employment</a> · <code>@employment@esf.test</code>' in page


def test_no_forums_an_empty_state(settings: Settings) -> None:
    bootstrap(settings)
    with TestClient(create_app(settings), base_url=settings.base_url) as client:
        page = client.get("/").text
    assert "There are no forums yet" in page
    assert "thematic forum" not in page
    assert 'href="/admin/forums"' not in page  # only an administrator is shown the way to one

    async def admin(session: AsyncSession) -> None:
        await members.add_member(session, settings, "zoe", "a long test password", Role.ADMIN)

    run_in_session(settings, admin)
    with TestClient(create_app(settings), base_url=settings.base_url) as client:
        sign_in(client, "zoe", "a long test password")
        assert '<a href="/admin/forums">Create a forum</a>' in client.get("/").text


def test_authorized_fetch_covers_the_moderators(tmp_path: Path, migrated_url: str) -> None:
    settings = make_settings(tmp_path, migrated_url, FEDI_AUTHORIZED_FETCH="on")
    bootstrap(settings, "anna")
    add_forum_and_moderators(settings)
    with TestClient(create_app(settings), base_url=settings.base_url) as client:
        for path in ("/groups/employment", "/groups/employment/moderators"):
            assert client.get(path, headers={"Accept": AS2}).status_code == 401, path
        assert client.get("/groups/employment", headers={"Accept": "text/html"}).status_code == 200
