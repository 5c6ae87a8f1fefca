from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.testclient import TestClient

from fedi.cli.common import run_in_session
from fedi.crypto.keys import ed25519_public_key_from_multibase, load_public_key_pem
from fedi.db.engine import make_async_engine, make_sessionmaker
from fedi.db.models import Actor, ActorType, BlockSeverity, DomainBlock, Follow, FollowState
from fedi.instance import build_context
from fedi.settings import Settings
from fedi.testing.keys import FIXED_NOW
from fedi.testing.peers import FakePeers, alice
from fedi.web import create_app
from tests.conftest import make_settings
from tests.web.test_discovery import bootstrap

AS2 = "application/activity+json"
LD_AS2 = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    bootstrap(settings, "anna")
    with TestClient(create_app(settings), base_url=settings.base_url) as client:
        yield client


@pytest.mark.parametrize("accept", [AS2, LD_AS2, "application/ld+json"])
@pytest.mark.parametrize(
    ("path", "kind"),
    [("/users/anna", "Person"), ("/groups/network", "Group"), ("/actor", "Application")],
)
def test_actor_documents(client: TestClient, accept: str, path: str, kind: str) -> None:
    response = client.get(path, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(AS2)
    assert response.headers["vary"] == "Accept"
    actor = response.json()
    uri = f"https://esf.test{path}"
    assert actor["id"] == uri
    assert actor["type"] == kind
    assert "https://www.w3.org/ns/activitystreams" in actor["@context"]
    assert actor["inbox"] == f"{uri}/inbox"
    assert actor["outbox"] == f"{uri}/outbox"
    assert actor["followers"] == f"{uri}/followers"
    assert actor["following"] == f"{uri}/following"
    assert actor["endpoints"] == {"sharedInbox": "https://esf.test/inbox"}
    assert actor["publicKey"]["id"] == f"{uri}#main-key"
    assert actor["publicKey"]["owner"] == uri
    assert load_public_key_pem(actor["publicKey"]["publicKeyPem"]).key_size == 2048  # type: ignore[union-attr]
    (multikey,) = actor["assertionMethod"]
    assert multikey["type"] == "Multikey"
    assert multikey["controller"] == uri
    ed25519_public_key_from_multibase(multikey["publicKeyMultibase"])


def test_browsers_get_the_html_page(client: TestClient) -> None:
    for accept in (
        "text/html,application/xhtml+xml,*/*;q=0.8",
        "*/*",
        "",
        "application/activity+json;q=0, text/html",  # q=0: explicitly not acceptable
    ):
        response = client.get("/users/anna", headers={"Accept": accept})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert "@anna@esf.test" in response.text
        assert '<link rel="alternate" type="application/activity+json"' in response.text


def test_unknown_actors_are_404(client: TestClient) -> None:
    assert client.get("/users/nobody", headers={"Accept": AS2}).status_code == 404
    # A group is not served as a person, nor the other way round.
    assert client.get("/users/network", headers={"Accept": AS2}).status_code == 404
    assert client.get("/groups/anna", headers={"Accept": AS2}).status_code == 404


def test_followers_collection_is_paged(client: TestClient, settings: Settings) -> None:
    async def add_followers() -> None:
        engine = make_async_engine(settings.database_url)
        async with make_sessionmaker(engine)() as session, session.begin():
            anna = (
                await session.execute(Actor.__table__.select().where(Actor.username == "anna"))
            ).one()
            for n in range(25):
                remote = Actor(
                    uri=f"https://remote.test/users/u{n}",
                    type=ActorType.PERSON,
                    local=False,
                    username=f"u{n}",
                    domain="remote.test",
                    inbox=f"https://remote.test/users/u{n}/inbox",
                )
                session.add(remote)
                await session.flush()
                state = FollowState.PENDING if n == 24 else FollowState.ACCEPTED
                session.add(
                    Follow(
                        uri=f"https://remote.test/follows/{n}",
                        follower_id=remote.id,
                        followed_id=anna.id,
                        state=state,
                    )
                )
        await engine.dispose()

    asyncio.run(add_followers())
    head = client.get("/users/anna/followers", headers={"Accept": AS2}).json()
    assert head["type"] == "OrderedCollection"
    assert head["totalItems"] == 24  # the pending follower is not counted
    first = client.get(
        head["first"].removeprefix("https://esf.test"), headers={"Accept": AS2}
    ).json()
    assert first["type"] == "OrderedCollectionPage"
    assert len(first["orderedItems"]) == 20
    assert first["partOf"] == "https://esf.test/users/anna/followers"
    second = client.get(
        first["next"].removeprefix("https://esf.test"), headers={"Accept": AS2}
    ).json()
    assert len(second["orderedItems"]) == 4
    assert "next" not in second
    assert set(first["orderedItems"]) | set(second["orderedItems"]) == {
        f"https://remote.test/users/u{n}" for n in range(24)
    }
    assert client.get("/users/anna/followers?page=0", headers={"Accept": AS2}).status_code == 400
    assert client.get("/users/anna/followers?page=x", headers={"Accept": AS2}).status_code == 400


def test_authorized_fetch_requires_signatures_except_for_the_instance_actor(
    tmp_path: Path, migrated_url: str
) -> None:
    settings = make_settings(tmp_path, migrated_url, FEDI_AUTHORIZED_FETCH="on")
    bootstrap(settings, "anna")
    with TestClient(create_app(settings), base_url=settings.base_url) as client:
        refused = client.get("/users/anna", headers={"Accept": AS2})
        assert refused.status_code == 401
        assert "signed requests" in refused.json()["error"]
        assert client.get("/users/anna/outbox", headers={"Accept": AS2}).status_code == 401
        assert client.get("/actor", headers={"Accept": AS2}).status_code == 200
        # The HTML page stays public.
        assert client.get("/users/anna", headers={"Accept": "text/html"}).status_code == 200


def test_authorized_fetch_serves_a_validly_signed_get(tmp_path: Path, migrated_url: str) -> None:
    settings = make_settings(tmp_path, migrated_url, FEDI_AUTHORIZED_FETCH="on")
    bootstrap(settings, "anna")
    peers = FakePeers()
    peers.add(alice())
    context = build_context(settings, client=peers.client(settings))
    context.clock = lambda: FIXED_NOW
    url = "https://esf.test/users/anna"
    with TestClient(create_app(settings, context=context), base_url=settings.base_url) as client:
        signed = alice().sign("GET", url, b"", headers={"Accept": AS2})
        response = client.get("/users/anna", headers=signed)
        assert response.status_code == 200, response.text
        assert response.json()["id"] == url
        # The same signature does not open another resource (rule 11).
        other = client.get("/groups/network", headers=signed)
        assert other.status_code == 401
        # The key that verified is kept: the next signed GET fetches nothing.
        fetches = len(peers.requests)
        assert client.get("/users/anna", headers=signed).status_code == 200
        assert len(peers.requests) == fetches


@pytest.mark.parametrize("change", ["block", "suspend"])
def test_authorized_fetch_refuses_a_blocked_or_suspended_signer(
    tmp_path: Path, migrated_url: str, change: str
) -> None:
    settings = make_settings(tmp_path, migrated_url, FEDI_AUTHORIZED_FETCH="on")
    bootstrap(settings, "anna")
    peers = FakePeers()
    peers.add(alice())
    context = build_context(settings, client=peers.client(settings))
    context.clock = lambda: FIXED_NOW
    signed = alice().sign("GET", "https://esf.test/users/anna", b"", headers={"Accept": AS2})
    with TestClient(create_app(settings, context=context), base_url=settings.base_url) as client:
        assert client.get("/users/anna", headers=signed).status_code == 200

        async def apply(session: AsyncSession) -> None:
            if change == "block":
                session.add(DomainBlock(domain="alice.test", severity=BlockSeverity.SUSPEND))
            else:
                row = await session.scalar(select(Actor).where(Actor.uri == alice().uri))
                assert row is not None
                row.suspended_at = FIXED_NOW

        run_in_session(settings, apply)
        refused = client.get("/users/anna", headers=signed)
        assert refused.status_code == 403
        expected = "domain is blocked" if change == "block" else "actor is suspended or deleted"
        assert refused.json()["error"] == expected


def test_unknown_actor_is_a_page_for_people_and_json_for_servers(client: TestClient) -> None:
    page = client.get("/users/nobody", headers={"Accept": "text/html"})
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "<h1>Not found</h1>" in page.text
    api = client.get("/users/nobody", headers={"Accept": AS2})
    assert api.status_code == 404
    assert api.json() == {"error": "no such actor"}


@pytest.mark.parametrize("scheme", ["draft-cavage", "rfc9421"])
def test_authorized_fetch_of_a_percent_escaped_path(
    tmp_path: Path, migrated_url: str, scheme: str
) -> None:
    """The signature covers the path as sent (``%61nna``), which the inbox checks the same way;
    the decoded path (``anna``) would not verify."""
    settings = make_settings(tmp_path, migrated_url, FEDI_AUTHORIZED_FETCH="on")
    bootstrap(settings, "anna")
    peers = FakePeers()
    peers.add(alice())
    context = build_context(settings, client=peers.client(settings))
    context.clock = lambda: FIXED_NOW
    url = "https://esf.test/users/%61nna"
    signed = alice().sign("GET", url, b"", scheme=scheme, headers={"Accept": AS2})
    with TestClient(create_app(settings, context=context), base_url=settings.base_url) as client:
        response = client.get("/users/%61nna", headers=signed)
        assert response.status_code == 200, response.text
        assert response.json()["id"] == "https://esf.test/users/anna"
