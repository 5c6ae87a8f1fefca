"""The outbox's delivery side: the retry state machine, the circuit breaker, and the worker.

Pure transitions run with a fixed clock; the worker runs against a MockTransport peer (no
sockets, no sleeping: tests step ``run_once`` and move the clock), on SQLite and PostgreSQL. One
PostgreSQL test starts two worker processes against a real local sink.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi.crypto import Verified, dump_private_key_pem, verify_request
from fedi.db.engine import make_async_engine, make_sessionmaker
from fedi.db.models import (
    Activity,
    ActivityState,
    Actor,
    ActorType,
    Delivery,
    DeliveryState,
    Peer,
)
from fedi.federation import leases
from fedi.federation.backoff import (
    Attempt,
    Delivered,
    Failed,
    Retry,
    RetryPolicy,
    backoff_delay,
    next_state,
)
from fedi.federation.delivery import DeliveryWorker, enqueue
from fedi.federation.hosts import (
    CircuitPolicy,
    circuit_open,
    half_open,
    mark_peer_alive,
    record_failure,
    record_success,
)
from fedi.net.body import parse_retry_after
from fedi.net.client import FetchPolicy, SafeClient
from fedi.settings import Settings
from fedi.testing.keys import (
    ALICE_KEY_ID,
    ALICE_RSA_PRIVATE_KEY_PEM,
    RecordingResolver,
    alice_key,
    rotated_key,
)
from fedi.testing.server import run_server

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
POLICY = RetryPolicy()
ALICE = "https://alice.test/users/alice"


def mid(low: float, high: float) -> float:
    """A "random" draw that always returns the middle: no jitter."""
    return (low + high) / 2


# --- the state machine -------------------------------------------------------------------------


def test_2xx_is_delivered() -> None:
    for status in (200, 201, 202, 204):
        assert next_state(Attempt(status), 1, T0, POLICY) == Delivered()


def test_backoff_doubles_from_30_seconds_up_to_the_cap() -> None:
    delays = [backoff_delay(n, POLICY, mid) for n in range(1, 17)]
    assert delays[:4] == [timedelta(seconds=s) for s in (30, 60, 120, 240)]
    assert all(b >= a for a, b in itertools.pairwise(delays))
    assert delays[-1] == timedelta(hours=12)
    state = next_state(Attempt(503), 3, T0, POLICY, uniform=mid)
    assert state == Retry(T0 + timedelta(seconds=120), "http 503")


def test_jitter_stays_within_its_bounds() -> None:
    import random

    rng = random.Random(7)
    seen = [backoff_delay(4, POLICY, rng.uniform).total_seconds() for _ in range(500)]
    assert 240 * 0.8 <= min(seen) < 240 * 0.85
    assert 240 * 1.15 < max(seen) <= 240 * 1.2
    assert len(set(seen)) > 400  # it does vary
    # The cap holds even with the largest jitter.
    assert backoff_delay(30, POLICY, lambda low, high: high) == POLICY.cap


def test_retry_after_seconds_is_honoured_within_its_cap() -> None:
    state = next_state(Attempt(429, retry_after=90.0), 1, T0, POLICY, uniform=mid)
    assert state == Retry(T0 + timedelta(seconds=90), "http 429")
    far = next_state(Attempt(503, retry_after=86400.0 * 3), 1, T0, POLICY)
    assert isinstance(far, Retry) and far.at == T0 + timedelta(hours=6)


def test_retry_after_http_date() -> None:
    now = T0.timestamp()
    seconds = parse_retry_after("Sat, 01 Mar 2025 12:05:00 GMT", now=now)
    state = next_state(Attempt(503, retry_after=seconds), 2, T0, POLICY)
    assert state == Retry(T0 + timedelta(minutes=5), "http 503")
    past = parse_retry_after("Sat, 01 Mar 2025 11:00:00 GMT", now=now)
    soon = next_state(Attempt(503, retry_after=past), 2, T0, POLICY)
    assert isinstance(soon, Retry) and soon.at == T0 + timedelta(seconds=1)


@pytest.mark.parametrize("status", [400, 403, 404, 405, 413, 422, 301, 302])
def test_4xx_and_3xx_are_not_retried(status: int) -> None:
    state = next_state(Attempt(status), 1, T0, POLICY)
    assert state == Failed(f"http {status}")


@pytest.mark.parametrize("status", [401, 408, 429, 500, 502, 503, 504])
def test_401_408_429_and_5xx_are_retried(status: int) -> None:
    state = next_state(Attempt(status), 1, T0, POLICY, uniform=mid)
    assert state == Retry(T0 + timedelta(seconds=30), f"http {status}")


def test_410_gone_fails() -> None:
    assert next_state(Attempt(410), 1, T0, POLICY) == Failed("http 410 gone")


def test_transport_errors_retry_unless_permanent() -> None:
    state = next_state(Attempt(None, error="network error"), 1, T0, POLICY, uniform=mid)
    assert state == Retry(T0 + timedelta(seconds=30), "network error")
    refused = Attempt(None, error="blocked address", permanent=True)
    assert next_state(refused, 1, T0, POLICY) == Failed("blocked address")


def test_out_of_attempts_fails() -> None:
    assert isinstance(next_state(Attempt(500), 15, T0, POLICY), Retry)
    state = next_state(Attempt(500), 16, T0, POLICY)
    assert isinstance(state, Failed) and "out of attempts" in state.reason


def test_unavailable_peer_waits_the_cap() -> None:
    state = next_state(Attempt(None, error="x"), 2, T0, POLICY, peer_available=False)
    assert state == Retry(T0 + POLICY.cap, "x")


# --- the circuit breaker -----------------------------------------------------------------------


def fresh_peer() -> Peer:
    return Peer(host="dead.test", consecutive_failures=0, available=True)


def test_circuit_opens_for_a_growing_period_then_half_opens() -> None:
    policy = CircuitPolicy(threshold=3, base_open=timedelta(minutes=1))
    peer = fresh_peer()
    for _ in range(2):
        record_failure(peer, T0, policy)
    assert not circuit_open(peer, T0)
    record_failure(peer, T0, policy)
    assert peer.circuit_open_until == T0 + timedelta(minutes=1)
    assert circuit_open(peer, T0 + timedelta(seconds=59))
    assert half_open(peer, T0 + timedelta(minutes=1), policy)
    record_failure(peer, T0 + timedelta(minutes=1), policy)
    assert peer.circuit_open_until == T0 + timedelta(minutes=3)  # 1 min later, open for 2
    record_success(peer, T0 + timedelta(minutes=5))
    assert peer.consecutive_failures == 0 and peer.circuit_open_until is None
    assert not half_open(peer, T0 + timedelta(minutes=5), policy)


def test_peer_failing_for_days_becomes_unavailable_and_recovers_on_success() -> None:
    policy = CircuitPolicy()
    peer = fresh_peer()
    record_failure(peer, T0, policy)
    record_failure(peer, T0 + timedelta(days=1), policy)
    assert peer.available is True
    record_failure(peer, T0 + timedelta(days=2, seconds=1), policy)
    assert peer.available is False
    assert peer.circuit_open_until is None  # three failures: below the threshold of five
    record_success(peer, T0 + timedelta(days=3))
    assert peer.available is True and peer.first_failure_at is None


# --- the worker --------------------------------------------------------------------------------


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


class EmptyStream(httpx.AsyncByteStream):
    """An unread empty body: ``SafeClient.post`` streams the answer, which a ``content=``
    response (read at construction) would refuse with ``StreamConsumed``.
    """

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if False:  # pragma: no cover - an async generator that yields nothing
            yield b""


@dataclass
class FakePeers:
    """An ``httpx.MockTransport`` handler: records every POST, answers per host.

    ``answers[host]`` is a status, or ``"down"`` for a refused connection; ``delay`` makes each
    answer take that long (for concurrency checks); in-flight requests are counted per host.
    """

    answers: dict[str, int | str] = field(default_factory=dict)
    delay: float = 0.0
    seen: list[httpx.Request] = field(default_factory=list)
    accepted: list[httpx.Request] = field(default_factory=list)
    in_flight: Counter[str] = field(default_factory=Counter)
    max_in_flight: Counter[str] = field(default_factory=Counter)
    retry_after: str | None = None

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        answer = self.answers.get(host, 202)
        if answer == "down":
            raise httpx.ConnectError("connection refused", request=request)
        self.in_flight[host] += 1
        self.max_in_flight[host] = max(self.max_in_flight[host], self.in_flight[host])
        try:
            if self.delay:
                await anyio.sleep(self.delay)
            self.seen.append(request)
        finally:
            self.in_flight[host] -= 1
        headers = {"Retry-After": self.retry_after} if self.retry_after else {}
        if 200 <= int(answer) < 300:
            self.accepted.append(request)
        return httpx.Response(int(answer), headers=headers, stream=EmptyStream())

    def hosts(self) -> Counter[str]:
        return Counter(request.url.host for request in self.seen)


@pytest.fixture
async def sessions(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_async_engine(settings.database_url)
    try:
        yield make_sessionmaker(engine)
    finally:
        await engine.dispose()


@pytest.fixture
def peers() -> FakePeers:
    return FakePeers()


@pytest.fixture
async def client(peers: FakePeers) -> AsyncIterator[SafeClient]:
    policy = FetchPolicy(user_agent="fedi-test/1.0")
    async with SafeClient(policy, transport=httpx.MockTransport(peers)) as safe:
        yield safe


@pytest.fixture
def clock() -> Clock:
    # Near the real time: enqueue() and the row defaults use it too.
    return Clock(datetime.now(UTC).replace(microsecond=0))


def make_worker(
    sessions: async_sessionmaker[AsyncSession],
    client: SafeClient,
    clock: Clock,
    *,
    per_host: int = 2,
    **kwargs: object,
) -> DeliveryWorker:
    return DeliveryWorker(
        sessions,
        client,
        concurrency_per_host=per_host,
        clock=clock,
        **kwargs,  # type: ignore[arg-type]
    )


async def publish(
    sessions: async_sessionmaker[AsyncSession],
    inboxes: list[str],
    now: datetime,
    uri: str = "https://esf.test/activities/1",
) -> int:
    """Store an activity by a local actor and queue it for ``inboxes``, in one transaction."""
    async with sessions() as session, session.begin():
        actor = await session.scalar(select(Actor).where(Actor.uri == ALICE))
        if actor is None:
            actor = Actor(
                uri=ALICE,
                type=ActorType.PERSON,
                local=True,
                username="alice",
                domain="alice.test",
                inbox=f"{ALICE}/inbox",
                public_key_id=ALICE_KEY_ID,
                private_key_pem=ALICE_RSA_PRIVATE_KEY_PEM,
            )
            session.add(actor)
            await session.flush()
        activity = Activity(
            uri=uri,
            type="Create",
            actor_id=actor.id,
            local=True,
            state=ActivityState.SENT,
            document={"id": uri, "type": "Create", "actor": ALICE, "content": "zażółć"},
        )
        session.add(activity)
        return await enqueue(session, activity, inboxes, now=now)


async def states(sessions: async_sessionmaker[AsyncSession]) -> Counter[str]:
    async with sessions() as session:
        rows = await session.execute(select(Delivery.state, func.count()).group_by(Delivery.state))
        return Counter({str(state): count for state, count in rows})


async def delivery(sessions: async_sessionmaker[AsyncSession], inbox: str) -> Delivery:
    async with sessions() as session:
        row = await session.scalar(select(Delivery).where(Delivery.inbox == inbox))
        assert row is not None
        return row


async def peer_row(sessions: async_sessionmaker[AsyncSession], host: str) -> Peer:
    async with sessions() as session:
        row = await session.scalar(select(Peer).where(Peer.host == host))
        assert row is not None
        return row


async def test_enqueue_is_transactional_and_unique(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    inboxes = ["https://a.test/inbox", "https://b.test:8443/inbox", "https://a.test/inbox"]
    assert await publish(sessions, [*inboxes, "not a url"], clock.now) == 2
    async with sessions() as session:
        rows = (await session.scalars(select(Delivery).order_by(Delivery.id))).all()
        assert [(r.host, r.state) for r in rows] == [
            ("a.test", DeliveryState.PENDING),
            ("b.test:8443", DeliveryState.PENDING),
        ]
        activity = await session.scalar(select(Activity))
        assert activity is not None
        assert await enqueue(session, activity, ["https://a.test/inbox", "https://c.test/i"]) == 1
        await session.rollback()  # the caller's transaction decides
    assert sum((await states(sessions)).values()) == 2


async def test_enqueue_then_run_once_delivers_signed(
    sessions: async_sessionmaker[AsyncSession],
    client: SafeClient,
    peers: FakePeers,
    clock: Clock,
) -> None:
    inboxes = [f"https://p{i}.test/inbox" for i in range(5)] + ["https://p0.test/users/x/inbox"]
    await publish(sessions, inboxes, clock.now)
    worker = make_worker(sessions, client, clock)
    assert await worker.run_once() == 6
    assert await worker.run_once() == 0
    assert await states(sessions) == Counter({"delivered": 6})
    assert sorted(str(r.url) for r in peers.seen) == sorted(inboxes)
    resolver = RecordingResolver.of(ALICE_KEY_ID, ALICE, alice_key())
    for request in peers.seen:
        assert request.headers["content-type"] == "application/activity+json"
        assert b'"content":"za\xc5\xbc\xc3\xb3\xc5\x82\xc4\x87"' in request.content
        result = await verify_request(
            "POST",
            str(request.url),
            request.headers,
            request.content,
            resolve_key=resolver,
            now=clock.now,
            expected_host=request.url.host,
        )
        assert isinstance(result, Verified), result
    row = await delivery(sessions, inboxes[0])
    assert row.attempts == 1 and row.last_status == 202 and row.delivered_at == clock.now
    assert row.leased_until is None


async def test_retry_after_from_the_peer_sets_the_next_attempt(
    sessions: async_sessionmaker[AsyncSession],
    client: SafeClient,
    peers: FakePeers,
    clock: Clock,
) -> None:
    peers.answers["busy.test"] = 503
    peers.retry_after = "120"
    await publish(sessions, ["https://busy.test/inbox"], clock.now)
    await make_worker(sessions, client, clock).run_once()
    row = await delivery(sessions, "https://busy.test/inbox")
    assert row.state == DeliveryState.PENDING
    assert row.next_attempt_at == clock.now + timedelta(seconds=120)
    assert row.last_status == 503 and row.last_error == "http 503"


async def test_permanent_answer_fails_without_retry(
    sessions: async_sessionmaker[AsyncSession],
    client: SafeClient,
    peers: FakePeers,
    clock: Clock,
) -> None:
    peers.answers.update({"gone.test": 410, "bad.test": 400, "auth.test": 401})
    await publish(
        sessions,
        ["https://gone.test/inbox", "https://bad.test/inbox", "https://auth.test/inbox"],
        clock.now,
    )
    await make_worker(sessions, client, clock).run_once()
    assert (await delivery(sessions, "https://gone.test/inbox")).state == DeliveryState.FAILED
    assert (await delivery(sessions, "https://bad.test/inbox")).state == DeliveryState.FAILED
    assert (await delivery(sessions, "https://auth.test/inbox")).state == DeliveryState.PENDING


@pytest.mark.parametrize("failure", ["down", 500])
async def test_peer_down_then_back_loses_nothing(
    sessions: async_sessionmaker[AsyncSession],
    client: SafeClient,
    peers: FakePeers,
    clock: Clock,
    failure: int | str,
) -> None:
    inboxes = ["https://flaky.test/inbox", "https://flaky.test/users/b/inbox"]
    await publish(sessions, [*inboxes, "https://fine.test/inbox"], clock.now)
    peers.answers["flaky.test"] = failure
    worker = make_worker(sessions, client, clock, rng=None)
    assert await worker.run_once() == 3
    assert await states(sessions) == Counter({"pending": 2, "delivered": 1})
    row = await delivery(sessions, inboxes[0])
    assert row.attempts == 1
    assert clock.now + timedelta(seconds=24) <= row.next_attempt_at
    assert row.next_attempt_at <= clock.now + timedelta(seconds=36)
    assert await worker.run_once() == 0  # not due yet: nothing is sent early
    clock.advance(seconds=37)
    assert await worker.run_once() == 2  # still down: second attempt
    assert (await delivery(sessions, inboxes[0])).attempts == 2
    peers.answers.pop("flaky.test")
    clock.advance(seconds=80)
    assert await worker.run_once() == 2
    assert await states(sessions) == Counter({"delivered": 3})
    delivered = [str(r.url) for r in peers.accepted]
    assert sorted(delivered) == sorted([*inboxes, "https://fine.test/inbox"])
    peer = await peer_row(sessions, "flaky.test")
    assert peer.consecutive_failures == 0 and peer.last_success_at == clock.now


async def test_circuit_opens_postpones_and_closes(
    sessions: async_sessionmaker[AsyncSession],
    client: SafeClient,
    peers: FakePeers,
    clock: Clock,
) -> None:
    circuit = CircuitPolicy(threshold=2, base_open=timedelta(minutes=5))
    inboxes = [f"https://dead.test/users/u{i}/inbox" for i in range(6)]
    await publish(sessions, [*inboxes, "https://alive.test/inbox"], clock.now)
    peers.answers["dead.test"] = "down"
    worker = make_worker(sessions, client, clock, per_host=1, circuit_policy=circuit)
    # One at a time: the first two fail, the others are postponed without being tried.
    assert await worker.run_once() == 3
    assert peers.hosts() == Counter({"alive.test": 1})
    peer = await peer_row(sessions, "dead.test")
    assert peer.consecutive_failures == 2
    assert peer.circuit_open_until == clock.now + timedelta(minutes=5)
    assert sum(r.attempts for r in [await delivery(sessions, i) for i in inboxes]) == 2
    # Backoff is over, but the circuit is open: rows are moved to its end, not attempted.
    clock.advance(minutes=2)
    assert await worker.run_once() == 0
    for inbox in inboxes:
        assert (await delivery(sessions, inbox)).next_attempt_at >= clock.now + timedelta(minutes=2)
    # Half-open: a single probe. It fails, so the circuit opens again, for longer.
    clock.advance(minutes=4)
    assert await worker.run_once() == 1
    assert await worker.run_once() == 0
    peer = await peer_row(sessions, "dead.test")
    assert peer.consecutive_failures == 3
    assert peer.circuit_open_until == clock.now + timedelta(minutes=10)
    # The host is back: the next probe succeeds, the circuit closes, the rest go out at once.
    peers.answers.pop("dead.test")
    clock.advance(minutes=11)
    assert await worker.run_once() == 1
    peer = await peer_row(sessions, "dead.test")
    assert peer.consecutive_failures == 0 and peer.circuit_open_until is None
    assert await worker.run_once() == 2
    assert await worker.run_once() == 2
    assert await worker.run_once() == 1
    assert await states(sessions) == Counter({"delivered": 7})
    assert peers.hosts()["dead.test"] == 6


async def test_mark_peer_alive_brings_postponed_deliveries_forward(
    sessions: async_sessionmaker[AsyncSession],
    client: SafeClient,
    peers: FakePeers,
    clock: Clock,
) -> None:
    await publish(sessions, ["https://dead.test/inbox"], clock.now)
    async with sessions() as session, session.begin():
        session.add(
            Peer(
                host="dead.test",
                consecutive_failures=40,
                first_failure_at=clock.now - timedelta(days=3),
                circuit_open_until=clock.now + timedelta(hours=6),
                available=False,
            )
        )
        row = await session.scalar(select(Delivery))
        assert row is not None
        row.next_attempt_at = clock.now + timedelta(hours=12)
    worker = make_worker(sessions, client, clock)
    assert await worker.run_once() == 0
    async with sessions() as session, session.begin():
        assert await mark_peer_alive(session, "dead.test", clock.now)
    async with sessions() as session, session.begin():
        assert not await mark_peer_alive(session, "dead.test", clock.now)  # healthy: no-op
        assert not await mark_peer_alive(session, "unknown.test", clock.now)
    peer = await peer_row(sessions, "dead.test")
    assert peer.available and peer.consecutive_failures == 0 and peer.circuit_open_until is None
    assert await worker.run_once() == 1
    assert await states(sessions) == Counter({"delivered": 1})


async def test_per_host_cap_and_a_backlogged_host_does_not_fill_the_batch(
    sessions: async_sessionmaker[AsyncSession],
    client: SafeClient,
    peers: FakePeers,
    clock: Clock,
) -> None:
    slow = [f"https://slow.test/users/u{i}/inbox" for i in range(20)]
    others = [f"https://o{i}.test/inbox" for i in range(4)]
    await publish(sessions, slow + others, clock.now)  # the slow host's rows come first
    peers.delay = 0.02
    worker = make_worker(sessions, client, clock, per_host=3, batch_size=10)
    assert await worker.run_once() == 10  # 6 of the slow host (2 x 3), and every other host
    assert all(peers.hosts()[f"o{i}.test"] == 1 for i in range(4))
    while await worker.run_once():
        pass
    assert await states(sessions) == Counter({"delivered": 24})
    assert peers.max_in_flight["slow.test"] == 3  # the cap, reached and never exceeded


async def test_lease_expiry_after_a_killed_worker(
    sessions: async_sessionmaker[AsyncSession],
    client: SafeClient,
    peers: FakePeers,
    clock: Clock,
) -> None:
    inboxes = [f"https://p{i}.test/inbox" for i in range(4)]
    await publish(sessions, inboxes, clock.now)
    # A worker claims the rows, then dies before sending anything.
    async with sessions() as session, session.begin():
        claim = await leases.claim_due(
            session,
            now=clock.now,
            lease=timedelta(minutes=5),
            limit=10,
            quota=10,
            held={},
            exclude=(),
            circuit=CircuitPolicy(),
        )
        assert claim is not None and len(claim.jobs) == 4
    other = make_worker(sessions, client, clock)
    assert await other.run_once() == 0  # the leases hold
    clock.advance(minutes=5, seconds=1)
    assert await other.run_once() == 4
    assert await states(sessions) == Counter({"delivered": 4})
    assert sorted(str(r.url) for r in peers.seen) == inboxes
    # The dead worker's claim counted an attempt; the row keeps its history.
    assert (await delivery(sessions, inboxes[0])).attempts == 2


async def test_a_late_outcome_does_not_overwrite_the_new_owner(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    await publish(sessions, ["https://p.test/inbox"], clock.now)
    claim_args = {
        "lease": timedelta(minutes=5),
        "limit": 10,
        "quota": 10,
        "held": {},
        "exclude": (),
        "circuit": CircuitPolicy(),
    }
    async with sessions() as session, session.begin():
        first = await leases.claim_due(session, now=clock.now, **claim_args)  # type: ignore[arg-type]
    clock.advance(minutes=6)
    async with sessions() as session, session.begin():
        second = await leases.claim_due(session, now=clock.now, **claim_args)  # type: ignore[arg-type]
    assert first is not None and second is not None
    for claim, status in ((second, 202), (first, 500)):
        async with sessions() as session, session.begin():
            await leases.record_outcomes(
                session,
                [leases.Outcome(claim.jobs[0], Attempt(status))],
                now=clock.now,
                retry_policy=POLICY,
                circuit_policy=CircuitPolicy(),
                uniform=mid,
            )
    assert await states(sessions) == Counter({"delivered": 1})


async def test_run_loop_delivers_and_stops(
    sessions: async_sessionmaker[AsyncSession],
    client: SafeClient,
    peers: FakePeers,
    clock: Clock,
) -> None:
    inboxes = [f"https://p{i % 7}.test/users/u{i}/inbox" for i in range(40)]
    await publish(sessions, inboxes, clock.now)
    worker = make_worker(sessions, client, clock, batch_size=8, idle_interval=0.01)
    stop = anyio.Event()
    with anyio.fail_after(20):
        async with anyio.create_task_group() as group:
            group.start_soon(worker.run, stop)
            while (await states(sessions))["delivered"] < 40:  # noqa: ASYNC110 - a poll
                await anyio.sleep(0.01)
            stop.set()
    assert len(peers.seen) == 40


# --- two worker processes on PostgreSQL --------------------------------------------------------


class CountingSink:
    """A real HTTP sink counting POSTs per path; checks that each carries a signature."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.unsigned = 0
        self._lock = threading.Lock()
        self.app = Starlette(routes=[Route("/{path:path}", self.handle, methods=["POST"])])

    async def handle(self, request: Request) -> Response:
        await request.body()
        await anyio.sleep(0.002)
        with self._lock:
            self.counts[request.url.path] += 1
            if "keyId=" not in request.headers.get("signature", ""):
                self.unsigned += 1
        return Response(status_code=202)


# PostgreSQL only: SQLite has a single writer, so two processes cannot race for a row there.
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_two_worker_processes_send_each_delivery_exactly_once(
    backend: str, settings: Settings, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    sink = CountingSink()
    with run_server(sink.app) as base:
        port = base.rsplit(":", 1)[1]
        inboxes = [f"http://h{i % 30}.test:{port}/inbox/{i}" for i in range(300)]
        await publish(sessions, inboxes, datetime.now(UTC))

        def start(mode: str) -> subprocess.Popen[bytes]:
            command = [sys.executable, "-m", "fedi.testing.delivery_worker", settings.database_url]
            return subprocess.Popen(
                [*command, "--mode", mode, "--per-host", "2", "--deadline", "60"],
                stderr=(tmp_path / f"{mode}.log").open("wb"),
            )

        workers = [start("once"), start("run")]
        codes = [await anyio.to_thread.run_sync(w.wait, 90) for w in workers]
    if codes != [0, 0]:
        pytest.fail(f"worker exit codes {codes}; see the logs in {tmp_path}")
    assert sink.unsigned == 0
    assert len(sink.counts) == 300
    assert set(sink.counts.values()) == {1}, [p for p, n in sink.counts.items() if n > 1]
    assert await states(sessions) == Counter({"delivered": 300})
    # Every lease named a registered live worker. How the 300 split between the two is up to
    # timing: on a fast machine the first worker may send them all before the second starts.
    async with sessions() as session:
        holders = Counter((await session.scalars(select(Delivery.leased_by))).all())
    assert None not in holders and 1 <= len(holders) <= 2, holders


async def test_a_retry_after_a_key_rotation_is_signed_with_the_new_key(
    sessions: async_sessionmaker[AsyncSession],
    client: SafeClient,
    peers: FakePeers,
    clock: Clock,
) -> None:
    await publish(sessions, ["https://p.test/inbox"], clock.now)
    peers.answers["p.test"] = 500
    worker = make_worker(sessions, client, clock)
    assert await worker.run_once() == 1
    async with sessions() as session, session.begin():
        actor = await session.scalar(select(Actor).where(Actor.uri == ALICE))
        assert actor is not None
        actor.private_key_pem = dump_private_key_pem(rotated_key())
    peers.answers["p.test"] = 202
    clock.advance(hours=13)
    assert await worker.run_once() == 1
    assert await states(sessions) == Counter({"delivered": 1})
    retry = peers.seen[-1]
    result = await verify_request(
        "POST",
        str(retry.url),
        retry.headers,
        retry.content,
        resolve_key=RecordingResolver.of(ALICE_KEY_ID, ALICE, rotated_key()),
        now=clock.now,
        expected_host=retry.url.host,
    )
    assert isinstance(result, Verified), result


async def test_a_held_row_keeps_its_payload_while_many_others_pass(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    async def answer(request: httpx.Request) -> httpx.Response:
        if request.url.host == "slow.test":
            await anyio.sleep(0.5)
        return httpx.Response(202, stream=EmptyStream())

    policy = FetchPolicy(user_agent="fedi-test/1.0")
    async with SafeClient(policy, transport=httpx.MockTransport(answer)) as safe:
        for n in (1, 2):
            await publish(
                sessions, [f"https://slow.test/inbox{n}"], clock.now, f"https://esf.test/a/s{n}"
            )
        for n in range(30):
            await publish(
                sessions, [f"https://fast{n}.test/inbox"], clock.now, f"https://esf.test/a/f{n}"
            )
        # One slot for the slow host and a small batch: its second row waits while far more
        # activities than the payload cache holds are claimed and sent.
        worker = make_worker(sessions, safe, clock, per_host=1, batch_size=4, idle_interval=0.01)
        stop = anyio.Event()
        with anyio.fail_after(30):
            async with anyio.create_task_group() as group:
                group.start_soon(worker.run, stop)
                while (await states(sessions))["pending"]:  # noqa: ASYNC110 - a poll
                    await anyio.sleep(0.02)
                stop.set()
    assert await states(sessions) == Counter({"delivered": 32})
