"""Worker liveness: leases of a dead worker are taken over at once, a live worker's never."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import anyio
import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fedi.db.engine import make_async_engine, make_sessionmaker
from fedi.db.models import Delivery, WorkerProcess
from fedi.federation import leases
from fedi.federation.hosts import CircuitPolicy
from fedi.federation.liveness import Liveness
from fedi.net.client import FetchPolicy, SafeClient
from fedi.settings import Settings
from tests.federation.test_delivery import Clock, FakePeers, make_worker, publish, states


@pytest.fixture
async def sessions(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_async_engine(settings.database_url)
    try:
        yield make_sessionmaker(engine)
    finally:
        await engine.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
async def peers_and_client() -> AsyncIterator[tuple[FakePeers, SafeClient]]:
    peers = FakePeers()
    policy = FetchPolicy(user_agent="fedi-test/1.0")
    async with SafeClient(policy, transport=httpx.MockTransport(peers)) as client:
        yield peers, client


async def claim_for(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, worker_id: int | None
) -> int:
    """Lease every due row for ``worker_id``, as a worker that then dies would; the count."""
    async with sessions() as session, session.begin():
        claim = await leases.claim_due(
            session,
            now=clock.now,
            lease=timedelta(minutes=5),
            limit=100,
            quota=100,
            held={},
            exclude=(),
            circuit=CircuitPolicy(),
            worker_id=worker_id,
        )
    return len(claim.jobs) if claim else 0


INBOXES = [f"https://p{i}.test/inbox" for i in range(4)]


async def test_a_lease_is_taken_over_once_its_workers_heartbeat_is_stale(
    sessions: async_sessionmaker[AsyncSession],
    peers_and_client: tuple[FakePeers, SafeClient],
    clock: Clock,
) -> None:
    peers, client = peers_and_client
    await publish(sessions, INBOXES, clock.now)
    dead = Liveness(sessions, clock)
    assert await claim_for(sessions, clock, await dead.register()) == 4
    other_liveness = Liveness(sessions, clock)
    await other_liveness.register()
    other = make_worker(sessions, client, clock, liveness=other_liveness)
    clock.advance(seconds=9)
    assert await other_liveness.beat()
    assert await other.run_once() == 0  # the holder beat 9 s ago: alive
    clock.advance(seconds=2)
    assert await other_liveness.beat()
    assert await other.run_once() == 4  # 11 s of silence: dead, not 5 minutes
    assert await states(sessions) == Counter({"delivered": 4})
    assert sorted(str(r.url) for r in peers.seen) == INBOXES


async def test_a_live_workers_leases_hold_as_long_as_it_beats(
    sessions: async_sessionmaker[AsyncSession],
    peers_and_client: tuple[FakePeers, SafeClient],
    clock: Clock,
) -> None:
    _, client = peers_and_client
    await publish(sessions, INBOXES, clock.now)
    holder = Liveness(sessions, clock)
    assert await claim_for(sessions, clock, await holder.register()) == 4
    other = make_worker(sessions, client, clock)
    for _ in range(10):  # 60 s in all, a beat every 6 s
        clock.advance(seconds=6)
        assert await holder.beat()
        assert await other.run_once() == 0


async def test_a_worker_starting_up_knows_its_killed_predecessor_is_dead(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    await publish(sessions, INBOXES, clock.now)
    predecessor = Liveness(sessions, clock)
    worker_id = await predecessor.register()
    assert await claim_for(sessions, clock, worker_id) == 4
    # The row names a process of this host that has exited (and been reaped): killed.
    exited = subprocess.run(  # noqa: ASYNC221 - a short child, gone before the test goes on
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    async with sessions() as session, session.begin():
        await session.execute(
            update(WorkerProcess)
            .where(WorkerProcess.id == worker_id)
            .values(pid=int(exited.stdout))
        )
    assert await claim_for(sessions, clock, None) == 0  # its heartbeat is fresh
    successor = Liveness(sessions, clock)
    await successor.register()
    assert await claim_for(sessions, clock, successor.worker_id) == 4  # at once
    async with sessions() as session:
        ids = set((await session.scalars(select(WorkerProcess.id))).all())
        holders = set((await session.scalars(select(Delivery.leased_by))).all())
    assert ids == holders == {successor.worker_id}
    assert os.getpid() != int(exited.stdout)


async def test_a_live_worker_in_the_same_process_space_is_not_taken_for_dead(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    await publish(sessions, INBOXES, clock.now)
    first = Liveness(sessions, clock)
    assert await claim_for(sessions, clock, await first.register()) == 4
    second = Liveness(sessions, clock)
    await second.register()  # the same pid: running
    assert await claim_for(sessions, clock, second.worker_id) == 0


async def test_a_send_is_cut_short_when_the_heartbeat_stops(
    sessions: async_sessionmaker[AsyncSession],
    peers_and_client: tuple[FakePeers, SafeClient],
    clock: Clock,
) -> None:
    peers, client = peers_and_client
    peers.delay = 20.0  # a peer slower than the staleness limit
    await publish(sessions, INBOXES[:1], clock.now)
    liveness = Liveness(
        sessions, clock, stale=timedelta(seconds=0.6), margin=timedelta(seconds=0.3), heartbeat=0.1
    )
    await liveness.register()
    worker = make_worker(sessions, client, clock, liveness=liveness)
    with anyio.fail_after(5):
        assert await worker.run_once() == 1  # no beat since registering: ends after 0.3 s
    async with sessions() as session:
        row = await session.scalar(select(Delivery))
    assert row is not None and row.last_error is not None
    assert "heartbeat" in row.last_error and row.leased_until is None
