from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from fedi.actors.local import ensure_instance_actors
from fedi.db.engine import make_async_engine, make_sessionmaker
from fedi.services.members import add_member
from fedi.settings import Settings
from fedi.web import create_app
from tests.conftest import make_settings

AS2 = "application/activity+json"


def bootstrap(settings: Settings, *logins: str) -> None:
    async def run() -> None:
        engine = make_async_engine(settings.database_url)
        async with make_sessionmaker(engine)() as session, session.begin():
            await ensure_instance_actors(session, settings)
            for login in logins:
                await add_member(session, settings, login, "a long test password")
        await engine.dispose()

    asyncio.run(run())


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    bootstrap(settings, "anna")
    with TestClient(create_app(settings), base_url=settings.base_url) as client:
        yield client


@pytest.mark.parametrize(
    ("resource", "subject", "href"),
    [
        ("acct:anna@esf.test", "acct:anna@esf.test", "https://esf.test/users/anna"),
        ("acct:ANNA@esf.test", "acct:anna@esf.test", "https://esf.test/users/anna"),
        ("anna@esf.test", "acct:anna@esf.test", "https://esf.test/users/anna"),
        ("acct:network@esf.test", "acct:network@esf.test", "https://esf.test/groups/network"),
        ("https://esf.test/users/anna", "acct:anna@esf.test", "https://esf.test/users/anna"),
        ("acct:instance.actor@esf.test", "acct:instance.actor@esf.test", "https://esf.test/actor"),
    ],
)
def test_webfinger_finds_local_actors(
    client: TestClient, resource: str, subject: str, href: str
) -> None:
    response = client.get("/.well-known/webfinger", params={"resource": resource})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/jrd+json")
    document = response.json()
    assert document["subject"] == subject
    assert href in document["aliases"]
    self_link = next(link for link in document["links"] if link["rel"] == "self")
    assert self_link == {"rel": "self", "type": AS2, "href": href}
    rels = {link["rel"] for link in document["links"]}
    assert "http://webfinger.net/rel/profile-page" in rels


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({}, 400),
        ({"resource": "nonsense"}, 400),
        ({"resource": "acct:nobody@esf.test"}, 404),
        ({"resource": "acct:anna@other.test"}, 404),
        ({"resource": "https://esf.test/users/nobody"}, 404),
    ],
)
def test_webfinger_errors(client: TestClient, params: dict[str, str], status: int) -> None:
    response = client.get("/.well-known/webfinger", params=params)
    assert response.status_code == status
    assert "error" in response.json()


def test_webfinger_subject_keeps_a_non_default_port(tmp_path: Path, migrated_url: str) -> None:
    settings = make_settings(tmp_path, migrated_url, FEDI_BASE_URL="http://localhost:8123")
    bootstrap(settings, "anna")
    with TestClient(create_app(settings), base_url=settings.base_url) as client:
        document = client.get(
            "/.well-known/webfinger", params={"resource": "acct:anna@localhost:8123"}
        ).json()
    assert document["subject"] == "acct:anna@localhost:8123"
    assert document["links"][0]["href"] == "http://localhost:8123/users/anna"


def test_host_meta_points_to_webfinger(client: TestClient) -> None:
    xml = client.get("/.well-known/host-meta")
    assert xml.headers["content-type"].startswith("application/xrd+xml")
    assert 'template="https://esf.test/.well-known/webfinger?resource={uri}"' in xml.text
    document = client.get("/.well-known/host-meta.json").json()
    assert (
        document["links"][0]["template"] == "https://esf.test/.well-known/webfinger?resource={uri}"
    )


def test_nodeinfo_links_and_documents(client: TestClient) -> None:
    links = client.get("/.well-known/nodeinfo").json()["links"]
    hrefs = {link["rel"]: link["href"] for link in links}
    assert (
        hrefs["http://nodeinfo.diaspora.software/ns/schema/2.0"] == "https://esf.test/nodeinfo/2.0"
    )
    assert (
        hrefs["http://nodeinfo.diaspora.software/ns/schema/2.1"] == "https://esf.test/nodeinfo/2.1"
    )
    assert hrefs["https://www.w3.org/ns/activitystreams#Application"] == "https://esf.test/actor"
    for version in ("2.0", "2.1"):
        response = client.get(f"/nodeinfo/{version}")
        assert response.status_code == 200
        document = response.json()
        assert document["version"] == version
        assert document["software"]["name"] == "transnationality"
        assert document["protocols"] == ["activitypub"]
        assert document["usage"]["users"]["total"] == 1
        assert document["usage"]["localPosts"] == 0
        assert document["metadata"]["network"] == {
            "name": "ESF test network",
            "country": "PL",
            "handle": "@network@esf.test",
        }
    assert "homepage" in client.get("/nodeinfo/2.1").json()["software"]
    assert client.get("/nodeinfo/1.0").status_code == 404


def test_the_front_page_says_how_to_follow_the_network(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>ESF test network</h1>" in response.text
    assert "Poland" in response.text
    assert "@network@esf.test" in response.text
    assert 'href="https://esf.test/groups/network"' in response.text
