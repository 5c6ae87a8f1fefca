"""The delivery side of the transactional outbox: queue rows with the activity, send them later.

:func:`enqueue` writes one :class:`~fedi.db.models.Delivery` row per inbox in the caller's
transaction, so an activity and its deliveries commit (or vanish) together. A
:class:`DeliveryWorker` then claims due rows under a lease, POSTs each signed activity, and writes
what :func:`fedi.federation.backoff.next_state` decides. Delivery is at-least-once: a worker killed
mid-batch leaves leases that others take over once its heartbeat stops (or the lease ends, for a
worker that did not register), and the rows are sent again; receivers de-duplicate on the activity
``id``. Claiming is in :mod:`fedi.federation.leases`; host health in
:mod:`fedi.federation.hosts`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import anyio
import httpx
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fedi.crypto import KeyFormatError, PrivateKey, load_private_key_pem
from fedi.db.hot_reads import HotReads
from fedi.db.models import Activity, Actor, Delivery, DeliveryState, utcnow
from fedi.federation.backoff import Attempt, RetryPolicy
from fedi.federation.hosts import CircuitPolicy
from fedi.federation.leases import (
    Claim,
    Claimed,
    Outcome,
    anything_due,
    claim_due,
    host_answered,
    record_outcomes,
)
from fedi.federation.liveness import STALE_AFTER, Liveness
from fedi.instance import DELIVERIES_QUEUED
from fedi.log import log_event
from fedi.net.auth import SignatureAuth
from fedi.net.client import PostResult
from fedi.net.errors import BadUrl, BlockedAddress, FetchError
from fedi.net.urls import host_of

__all__ = ["SKIPPED_REASON", "DeliveryClient", "DeliveryWorker", "enqueue"]

_log = logging.getLogger("fedi.job")

ACTIVITY_JSON = "application/activity+json"
# The ``last_error`` of a delivery row never sent because its host is not on the allowlist.
SKIPPED_REASON = "not sent: the host is not on the federation allowlist"


class DeliveryClient(Protocol):
    """What the worker needs of :class:`fedi.net.client.SafeClient` (fakes implement just this)."""

    async def post(
        self,
        url: str,
        body: bytes,
        *,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | None = None,
    ) -> PostResult: ...


async def enqueue(
    session: AsyncSession,
    activity: Activity,
    inboxes: Iterable[str],
    *,
    now: datetime | None = None,
    skipped: Iterable[str] = (),
) -> int:
    """Queue ``activity`` for each of ``inboxes`` in the caller's transaction; return how many
    rows were added.

    Duplicates (within ``inboxes`` or already queued for this activity) are skipped, as are URLs
    that cannot name a host (logged). Rows are due at ``now`` (default: the real time). The
    activity is flushed first if it has no primary key yet. Nothing is sent before the caller
    commits. Inboxes also in ``skipped`` get a row marked skipped, which is never sent.
    """
    refused = set(skipped)
    if activity.id is None:
        await session.flush()
    by_inbox: dict[str, str] = {}
    for inbox in inboxes:
        if inbox in by_inbox:
            continue
        try:
            by_inbox[inbox] = host_of(inbox)
        except BadUrl as exc:
            log_event(
                _log,
                "delivery skipped",
                logging.WARNING,
                activity_id=activity.id,
                reason=exc.reason,
            )
    if not by_inbox:
        return 0
    existing = set(
        (
            await session.scalars(
                select(Delivery.inbox).where(
                    Delivery.activity_id == activity.id, Delivery.inbox.in_(list(by_inbox))
                )
            )
        ).all()
    )
    due = now or utcnow()
    rows = [
        Delivery(activity_id=activity.id, inbox=inbox, host=host, next_attempt_at=due)
        if inbox not in refused
        else Delivery(
            activity_id=activity.id,
            inbox=inbox,
            host=host,
            next_attempt_at=due,
            state=DeliveryState.SKIPPED,
            last_error=SKIPPED_REASON,
        )
        for inbox, host in by_inbox.items()
        if inbox not in existing
    ]
    session.add_all(rows)
    session.info[DELIVERIES_QUEUED] = True
    await session.flush()
    return len(rows)


@dataclass(frozen=True)
class _Payload:
    """An activity ready to send: its serialised body and how to sign it (``None``: cannot)."""

    body: bytes
    auth: httpx.Auth | None


class DeliveryWorker:
    """Sends due deliveries. ``run_once`` is one step (tests); ``run`` loops until stopped.

    At most ``concurrency_per_host`` requests are in flight to one host from this worker, and at
    most ``2 * concurrency_per_host`` of its rows are held at once, so a slow host ties up few
    rows and never the others' turn. ``batch_size`` bounds the rows held (claimed, not yet
    recorded) in all. ``lease`` must outlast the longest a held row can wait: two rounds of the
    client's total deadline, plus recording. ``signing_executor``, when given, runs the
    private-key operations (see :class:`SignatureAuth`). ``reads``, when given, first looks
    whether anything is due by a read alone (:func:`~fedi.federation.leases.anything_due`), so
    that an idle worker's polls open no write transaction.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        client: DeliveryClient,
        *,
        concurrency_per_host: int,
        clock: Callable[[], datetime] = utcnow,
        lease: timedelta = timedelta(minutes=5),
        batch_size: int = 200,
        retry_policy: RetryPolicy | None = None,
        circuit_policy: CircuitPolicy | None = None,
        rng: random.Random | None = None,
        idle_interval: float = 0.2,
        signing_executor: Executor | None = None,
        liveness: Liveness | None = None,
        reads: HotReads | None = None,
    ) -> None:
        if concurrency_per_host < 1 or batch_size < 1:
            raise ValueError("concurrency_per_host and batch_size must be at least 1")
        self._sessions = sessions
        self._client = client
        self._per_host = concurrency_per_host
        self._clock = clock
        self._lease = lease
        self._batch_size = batch_size
        self._retry_policy = retry_policy or RetryPolicy()
        self._circuit_policy = circuit_policy or CircuitPolicy()
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not a secret
        self.idle_interval = idle_interval
        self._signing_executor = signing_executor
        self._liveness = liveness
        self._reads = reads
        self._limiters: dict[str, asyncio.Semaphore] = {}
        self._held: dict[str, int] = {}
        # Consecutive failures per host seen since the last claim, over the stored count: when a
        # host dies mid-batch, its remaining rows are postponed instead of all being tried.
        self._streaks: dict[str, int] = {}
        self._bodies: OrderedDict[int, bytes] = OrderedDict()  # serialised once, oldest first
        self._payloads: dict[int, _Payload] = {}
        self._in_use: dict[int, int] = {}  # activity id -> claimed rows not yet sent
        self._request_ids: dict[int, str | None] = {}  # the request that caused each activity
        self._keys: dict[str, PrivateKey] = {}
        self._results: list[Outcome] = []
        self._wake = anyio.Event()

    def wake(self) -> None:
        """Look for due rows now (deliveries were committed) rather than after the idle pause."""
        self._wake.set()

    @property
    def quota_per_host(self) -> int:
        """How many rows of one host this worker holds at most."""
        return 2 * self._per_host

    async def run_once(self) -> int:
        """Claim due rows, send them concurrently, record the outcomes; return how many were
        attempted (rows postponed by a host's open circuit are not).
        """
        claim = await self._claim(self._batch_size)
        if claim is None:
            return 0
        results: list[Outcome] = []

        async def deliver(job: Claimed) -> None:
            results.append(await self._deliver(job))

        async with asyncio.TaskGroup() as group:
            for job in claim.jobs:
                group.create_task(deliver(job))
        await self._record(results)
        return sum(1 for result in results if result.attempt is not None)

    async def run(self, stop: anyio.Event | asyncio.Event) -> None:
        """Deliver until ``stop`` is set, then finish the requests in flight and record them.

        Rows are claimed whenever there is room, so one slow host never holds the others back;
        when nothing is due the loop sleeps ``idle_interval`` seconds. Database errors are logged
        and retried after a pause (the leases protect the rows meanwhile).
        """
        in_flight = 0

        async def deliver(job: Claimed) -> None:
            nonlocal in_flight
            try:
                # Looked up after the send: the loop swaps the list out when it records.
                outcome = await self._deliver(job)
                self._results.append(outcome)
            finally:
                in_flight -= 1
                self._wake.set()

        async def watch(group_stop: anyio.Event | asyncio.Event) -> None:
            await group_stop.wait()
            self._wake.set()

        async with anyio.create_task_group() as group:
            group.start_soon(watch, stop)
            while not stop.is_set() or in_flight:
                busy = False
                try:
                    if self._results:
                        results, self._results = self._results, []
                        try:
                            await self._record(results)
                        except BaseException:
                            self._results[:0] = results
                            raise
                        busy = True
                    room = self._batch_size - in_flight
                    if not stop.is_set() and (in_flight == 0 or room >= self._batch_size // 4):
                        claim = await self._claim(room)
                        if claim is not None:
                            for job in claim.jobs:
                                in_flight += 1
                                group.start_soon(deliver, job)
                            busy = True
                except SQLAlchemyError:
                    _log.exception("delivery worker: database error")
                    busy = False
                if not busy:
                    with anyio.move_on_after(self.idle_interval):
                        await self._wake.wait()
                    self._wake = anyio.Event()
            if self._results:
                results, self._results = self._results, []
                await self._record(results)
            group.cancel_scope.cancel()

    async def _claim(self, limit: int) -> Claim | None:
        stale = self._liveness.stale if self._liveness else STALE_AFTER
        if self._reads is not None:
            now = self._clock()
            if not await self._reads.run(lambda c: anything_due(c, now=now, stale=stale)):
                return None
        saturated = [host for host, held in self._held.items() if held >= self.quota_per_host]
        async with self._sessions() as session, session.begin():
            claim = await claim_due(
                session,
                now=self._clock(),
                lease=self._lease,
                limit=limit,
                quota=self.quota_per_host,
                held=self._held,
                exclude=saturated,
                circuit=self._circuit_policy,
                worker_id=self._liveness.worker_id if self._liveness else None,
                stale=stale,
            )
            if claim is None:
                return None
            for job in claim.jobs:  # before loading, so that loading evicts none of them
                self._in_use[job.activity_id] = self._in_use.get(job.activity_id, 0) + 1
            try:
                await self._load_payloads(session, {job.activity_id for job in claim.jobs})
            except BaseException:
                for job in claim.jobs:
                    self._release(job.activity_id)
                raise
        threshold = self._circuit_policy.threshold
        for host, peer in claim.peers.items():
            if host not in self._held:
                # A half-open host starts one failure short, so that its probe still goes out.
                self._streaks[host] = min(peer.failures, threshold - 1)
        for job in claim.jobs:
            self._held[job.host] = self._held.get(job.host, 0) + 1
        return claim

    async def _load_payloads(self, session: AsyncSession, activity_ids: set[int]) -> None:
        """Make each claimed activity ready to send: its body, serialised once and cached, and
        its actor's current key, read on every claim (a rotated key signs the very next try;
        parsed keys are cached by PEM). Entries a held job still needs are never evicted."""
        cached = {i for i in activity_ids if i in self._bodies}
        rows = await session.execute(
            select(Activity.id, Actor.public_key_id, Actor.private_key_pem, Activity.request_id)
            .join(Actor, Actor.id == Activity.actor_id)
            .where(Activity.id.in_(activity_ids))
        )
        signing: dict[int, tuple[str | None, str | None]] = {}
        for activity_id, key_id, pem, request_id in rows:
            signing[activity_id] = (key_id, pem)
            self._request_ids[activity_id] = request_id
        if activity_ids - cached:
            documents = await session.execute(
                select(Activity.id, Activity.document).where(Activity.id.in_(activity_ids - cached))
            )
            for activity_id, document in documents:
                body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
                self._bodies[activity_id] = body
        for activity_id in activity_ids:
            self._bodies.move_to_end(activity_id)
            key_id, pem = signing.get(activity_id, (None, None))
            key = self._key(pem)
            auth = None
            if key and key_id:
                auth = SignatureAuth(key_id, key, self._clock, self._signing_executor)
            self._payloads[activity_id] = _Payload(self._bodies[activity_id], auth)
        for activity_id in list(self._bodies):
            if len(self._bodies) <= 4 * self._batch_size:
                break
            if not self._in_use.get(activity_id):
                del self._bodies[activity_id]
                self._payloads.pop(activity_id, None)
                self._request_ids.pop(activity_id, None)

    def _release(self, activity_id: int) -> None:
        left = self._in_use[activity_id] - 1
        if left:
            self._in_use[activity_id] = left
        else:
            del self._in_use[activity_id]

    def _key(self, pem: str | None) -> PrivateKey | None:
        if not pem:
            return None
        key = self._keys.get(pem)
        if key is None:
            try:
                key = load_private_key_pem(pem)
            except KeyFormatError:
                return None
            if len(self._keys) >= 256:
                self._keys.clear()
            self._keys[pem] = key
        return key

    async def _deliver(self, job: Claimed) -> Outcome:
        """Send one claimed row (within its host's concurrency cap); return its outcome."""
        limiter = self._limiters.get(job.host)
        if limiter is None:
            limiter = self._limiters[job.host] = asyncio.Semaphore(self._per_host)
        try:
            async with limiter:
                if self._streaks.get(job.host, 0) >= self._circuit_policy.threshold:
                    # The host died during this batch: leave the row for after the open period.
                    until = self._clock() + self._circuit_policy.base_open
                    return Outcome(job, None, postponed_until=until)
                attempt = await self._guarded_attempt(job)
                if host_answered(attempt):
                    self._streaks[job.host] = 0
                else:
                    self._streaks[job.host] = self._streaks.get(job.host, 0) + 1
                return Outcome(job, attempt)
        finally:
            self._release(job.activity_id)
            self._held[job.host] -= 1
            if not self._held[job.host]:
                del self._held[job.host]
                self._limiters.pop(job.host, None)
                self._streaks.pop(job.host, None)

    async def _guarded_attempt(self, job: Claimed) -> Attempt:
        """The attempt, cut short when this worker's heartbeat can no longer vouch for its
        lease (another worker may take the row over): no two workers send a row at once."""
        if self._liveness is None:
            return await self._attempt(job)
        with self._liveness.guard() as scope:
            return await self._attempt(job)
        assert scope.cancelled_caught
        return Attempt(None, error="send abandoned: the worker's heartbeat stopped")

    async def _attempt(self, job: Claimed) -> Attempt:
        payload = self._payloads.get(job.activity_id)
        if payload is None:
            return Attempt(None, error="activity missing", permanent=True)
        if payload.auth is None:
            return Attempt(None, error="actor has no signing key", permanent=True)
        try:
            result = await self._client.post(
                job.inbox,
                payload.body,
                headers={"Content-Type": ACTIVITY_JSON},
                auth=payload.auth,
            )
        except (BadUrl, BlockedAddress) as exc:
            return Attempt(None, error=exc.reason, permanent=True)
        except FetchError as exc:
            return Attempt(None, error=exc.reason)
        except Exception as exc:  # a bug must not kill the worker: log it, retry the row later
            _log.exception("delivery %s: unexpected error", job.id)
            return Attempt(None, error=f"internal error: {type(exc).__name__}")
        return Attempt(result.status, result.retry_after)

    async def _record(self, results: list[Outcome]) -> None:
        if not results:
            return
        async with self._sessions() as session, session.begin():
            transitions = await record_outcomes(
                session,
                results,
                now=self._clock(),
                retry_policy=self._retry_policy,
                circuit_policy=self._circuit_policy,
                uniform=self._rng.uniform,
            )
        for outcome, state in transitions:
            job = outcome.job
            log_event(
                _log,
                "delivery",
                delivery_id=job.id,
                activity_id=job.activity_id,
                request_id=self._request_ids.get(job.activity_id),
                host=job.host,
                attempt=job.attempts,
                status=outcome.attempt.status if outcome.attempt else None,
                outcome=state.kind,
                next_attempt_at=state.at.isoformat() if state.at else None,
                error=state.reason,
            )
