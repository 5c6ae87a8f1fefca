"""The administrators' "retry now" and the peers' health list, on the real delivery table."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fedi.db.models import Peer
from fedi.errors import NotFoundError
from fedi.federation.hosts import CircuitPolicy
from fedi.net.client import SafeClient
from fedi.services.peers import peer_page, retry_now
from tests.federation.test_delivery import (
    Clock,
    FakePeers,
    client,
    clock,
    delivery,
    make_worker,
    peer_row,
    peers,
    publish,
    sessions,
    states,
)

__all__ = ["client", "clock", "peers", "sessions"]  # fixtures, used by name

CIRCUIT = CircuitPolicy(threshold=2, base_open=timedelta(hours=1))


async def test_retry_now_makes_a_backed_off_host_due_and_the_worker_sends(
    sessions: async_sessionmaker[AsyncSession],
    client: SafeClient,
    peers: FakePeers,
    clock: Clock,
) -> None:
    inboxes = [f"https://down.test/users/u{i}/inbox" for i in range(3)]
    await publish(sessions, [*inboxes, "https://fine.test/inbox"], clock.now)
    peers.answers["down.test"] = 503
    worker = make_worker(sessions, client, clock, per_host=1, rng=None, circuit_policy=CIRCUIT)
    # One at a time per host: two fail, which opens down.test's circuit for an hour.
    assert await worker.run_once() == 3
    peer = await peer_row(sessions, "down.test")
    assert peer.circuit_open_until == clock.now + timedelta(hours=1)
    clock.advance(minutes=5)
    assert await worker.run_once() == 0  # open: everything is postponed to the circuit's end
    for inbox in inboxes:
        assert (await delivery(sessions, inbox)).next_attempt_at > clock.now + timedelta(minutes=50)

    async with sessions() as session:
        page = await peer_page(session, limit=10)
    assert [row.host for row in page.rows] == ["down.test", "fine.test"]  # troubled first
    health = page.rows[0]
    assert (health.waiting, health.failures) == (3, 2)
    assert health.last_error is not None and "503" in health.last_error
    assert page.rows[1].waiting == 0
    assert page.rows[1].last_success_at == clock.now - timedelta(minutes=5)

    peers.answers.pop("down.test")  # the host is back; an admin asks for a retry
    async with sessions.begin() as session:
        assert await retry_now(session, "down.test", clock.now) == 3
    for inbox in inboxes:
        assert (await delivery(sessions, inbox)).next_attempt_at == clock.now
    assert (await peer_row(sessions, "down.test")).circuit_open_until is None
    # The next pass probes the host; once it answers, the rest go out without waiting.
    assert await worker.run_once() == 1
    assert (await peer_row(sessions, "down.test")).consecutive_failures == 0
    assert await worker.run_once() == 2
    assert await states(sessions) == Counter({"delivered": 4})
    async with sessions() as session:
        page = await peer_page(session, limit=10)
    assert [(row.host, row.waiting, row.failures, row.last_error) for row in page.rows] == [
        ("down.test", 0, 0, None),
        ("fine.test", 0, 0, None),
    ]


async def test_retry_now_refuses_an_unknown_host(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        with pytest.raises(NotFoundError):
            await retry_now(session, "nowhere.test")


async def test_peer_list_pages_unavailable_hosts_first(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    async with sessions.begin() as session:
        session.add_all(
            [
                Peer(host="a.test"),
                Peer(host="b.test", consecutive_failures=3, first_failure_at=clock.now),
                Peer(
                    host="c.test",
                    consecutive_failures=1,
                    available=False,
                    first_failure_at=clock.now - timedelta(days=3),
                ),
                Peer(host="d.test", consecutive_failures=7, first_failure_at=clock.now),
            ]
        )
    async with sessions() as session:
        first = await peer_page(session, limit=3)
        second = await peer_page(session, limit=3, offset=3)
    assert [row.host for row in first.rows] == ["c.test", "d.test", "b.test"]
    assert first.total == 4 and first.next_offset == 3
    assert first.rows[0].unavailable_since == clock.now - timedelta(days=3)
    assert first.rows[1].unavailable_since is None  # failing, but not for long enough
    assert [row.host for row in second.rows] == ["a.test"] and second.next_offset is None
