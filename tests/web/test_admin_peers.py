"""The peers page: moderators see delivery health per remote host; admins retry a host now."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.testclient import TestClient

from fedi.cli.common import run_in_session
from fedi.db.engine import make_async_engine, make_sessionmaker
from fedi.db.models import Delivery, Peer, Role, utcnow
from fedi.services.members import add_member
from fedi.settings import Settings
from fedi.testing.web import post_form, sign_in
from fedi.web import create_app
from tests.federation.test_delivery import publish
from tests.web.test_discovery import bootstrap

PASSWORD = "a long test password"


@pytest.fixture
def hosts(settings: Settings) -> None:
    """zoe (admin) and mia (moderator); fine.test is healthy, dead.test is in back-off with two
    deliveries waiting."""
    bootstrap(settings)
    now = utcnow()

    async def members(session: AsyncSession) -> None:
        await add_member(session, settings, "zoe", PASSWORD, Role.ADMIN)
        await add_member(session, settings, "mia", PASSWORD, Role.MODERATOR)
        session.add_all(
            [
                Peer(host="fine.test", last_success_at=now),
                Peer(
                    host="dead.test",
                    consecutive_failures=9,
                    first_failure_at=now - timedelta(days=3),
                    available=False,
                    circuit_open_until=now + timedelta(hours=6),
                ),
            ]
        )

    run_in_session(settings, members)

    async def queue() -> None:
        engine = make_async_engine(settings.database_url)
        try:
            sessions = make_sessionmaker(engine)
            inboxes = ["https://dead.test/inbox", "https://dead.test/users/b/inbox"]
            await publish(sessions, inboxes, now + timedelta(hours=6))
        finally:
            await engine.dispose()

    asyncio.run(queue())


def _client(settings: Settings) -> TestClient:
    return TestClient(create_app(settings), base_url=settings.base_url)


def _next_attempts(settings: Settings) -> list[datetime]:
    async def work(session: AsyncSession) -> list[datetime]:
        return list((await session.scalars(select(Delivery.next_attempt_at))).all())

    found: list[datetime] = run_in_session(settings, work)
    return found


def test_a_moderator_sees_troubled_hosts_first_without_the_button(
    settings: Settings, hosts: None
) -> None:
    with _client(settings) as client:
        sign_in(client, "mia", PASSWORD)
        page = client.get("/admin/peers")
        assert page.status_code == 200
        assert page.text.index("dead.test") < page.text.index("fine.test")
        assert '<td data-label="Waiting">2</td>' in page.text
        assert '<td data-label="Failures in a row"><strong>9</strong></td>' in page.text
        assert 'href="/admin/peers" aria-current="page"' in page.text
        assert "/admin/peers/retry" not in page.text
        assert post_form(client, "/admin/peers/retry", {"host": "dead.test"}).status_code == 403
    assert all(at > utcnow() + timedelta(hours=5) for at in _next_attempts(settings))


def test_an_admin_retries_a_host_now(settings: Settings, hosts: None) -> None:
    with _client(settings) as client:
        sign_in(client, "zoe", PASSWORD)
        page = client.get("/admin/peers")
        assert page.text.count('action="/admin/peers/retry"') == 1  # fine.test has nothing waiting
        answer = post_form(client, "/admin/peers/retry", {"host": "dead.test"})
        assert answer.status_code == 303
        assert "Deliveries to dead.test are due now" in client.get(answer.headers["location"]).text
    assert all(at <= utcnow() for at in _next_attempts(settings))

    async def peer(session: AsyncSession) -> Peer | None:
        found: Peer | None = await session.scalar(select(Peer).where(Peer.host == "dead.test"))
        return found

    row = run_in_session(settings, peer)
    assert row is not None and row.circuit_open_until is None


@pytest.mark.parametrize(("host", "status"), [("", 422), ("nowhere.test", 404)])
def test_a_retry_of_no_known_host_is_refused(
    settings: Settings, hosts: None, host: str, status: int
) -> None:
    with _client(settings) as client:
        sign_in(client, "zoe", PASSWORD)
        answer = post_form(client, "/admin/peers/retry", {"host": host})
        assert answer.status_code == status
        assert 'role="alert"' in answer.text
    assert all(at > utcnow() + timedelta(hours=5) for at in _next_attempts(settings))


def _peer_with(settings: Settings, host: str) -> None:
    async def work(session: AsyncSession) -> None:
        peer = await session.scalar(select(Peer).where(Peer.host == host))
        assert peer is not None
        peer.partner, peer.base_url = True, f"https://{host}"
        peer.network_uri = f"https://{host}/groups/network"
        peer.sync_error = "HTTP 503"

    run_in_session(settings, work)


def _partners(settings: Settings) -> list[str]:
    async def work(session: AsyncSession) -> list[str]:
        rows = await session.scalars(select(Peer.host).where(Peer.partner.is_(True)))
        return list(rows.all())

    found: list[str] = run_in_session(settings, work)
    return found


def test_the_peered_networks_are_listed_above_delivery_health(
    settings: Settings, hosts: None
) -> None:
    _peer_with(settings, "fine.test")
    with _client(settings) as client:
        sign_in(client, "mia", PASSWORD)
        page = client.get("/admin/peers")
        assert page.text.index("Peered networks") < page.text.index("Delivery health")
        assert 'id="network-fine.test"' in page.text and "HTTP 503" in page.text
        assert 'id="network-dead.test"' not in page.text
        assert "/admin/peers/add" not in page.text  # moderators read, admins act
        for path in ("/admin/peers/add", "/admin/peers/sync", "/admin/peers/remove"):
            assert post_form(client, path, {"host": "fine.test"}).status_code == 403
        client.cookies.set("lang", "pl")
        polish = client.get("/admin/peers", headers={"Accept-Language": "pl"})
        assert "Połączone sieci" in polish.text


def test_an_admin_stops_peering_from_the_page(settings: Settings, hosts: None) -> None:
    _peer_with(settings, "fine.test")
    with _client(settings) as client:
        sign_in(client, "zoe", PASSWORD)
        page = client.get("/admin/peers")
        assert 'action="/admin/peers/add"' in page.text
        answer = post_form(client, "/admin/peers/remove", {"host": "fine.test"})
        assert answer.status_code == 200
        assert "No longer peered with fine.test; 0 of its offers left the search." in answer.text
        assert "This network does not peer with any other yet." in answer.text
        missing = post_form(client, "/admin/peers/remove", {"host": "fine.test"})
        assert missing.status_code == 404 and 'role="alert"' in missing.text
    assert _partners(settings) == []


@pytest.mark.parametrize(
    ("url", "status", "message"),
    [
        ("", 422, "Enter the address of a network"),
        ("esf.example.it", 422, "Enter an address such as https://esf.example.it"),
        ("https://unreachable.invalid", 422, "No peering with https://unreachable.invalid"),
    ],
)
def test_peering_with_a_bad_address_is_refused_and_changes_nothing(
    settings: Settings, hosts: None, url: str, status: int, message: str
) -> None:
    with _client(settings) as client:
        sign_in(client, "zoe", PASSWORD)
        answer = post_form(client, "/admin/peers/add", {"url": url})
        assert answer.status_code == status
        assert 'role="alert"' in answer.text and message in answer.text
        assert f'value="{url}"' in answer.text
    assert _partners(settings) == []
