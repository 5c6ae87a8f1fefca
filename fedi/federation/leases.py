"""Claiming due deliveries under a lease, and writing back what became of them.

A claim is one short transaction: a single ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP
LOCKED) RETURNING`` sets ``leased_until`` and counts the attempt. On PostgreSQL the inner
``SKIP LOCKED`` lets several worker processes claim side by side without ever taking the same row,
and a row whose lease is current is not due, so no two workers send it while the lease holds.
A lease names its worker: when that worker's heartbeat stops, the row is due again at once
(:mod:`fedi.federation.liveness`), not at the lease's end.
SQLite has a single writer, so the same ``UPDATE ... RETURNING`` (without the locking clause, which
SQLite does not have) is atomic on its own. A lease that ends, or whose worker died, makes the row
due again: at-least-once, nothing lost.

Fairness: candidates are ranked per host and at most ``quota`` rows of a host are taken, so a
host with a large backlog cannot fill a batch. Rows of a host whose circuit is open are
postponed to its end in the same transaction, without counting an attempt.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from weakref import WeakKeyDictionary

from sqlalchemy import ColumnElement, Table, and_, bindparam, func, or_, select, update
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from fedi.db.models import Delivery, DeliveryState, Peer, WorkerProcess
from fedi.db.prepared import Bound, Prepared
from fedi.federation.backoff import Attempt, Delivered, Failed, RetryPolicy, next_state
from fedi.federation.hosts import (
    CircuitPolicy,
    ensure_peers,
    healthy,
    load_peers,
    record_failure,
    record_success,
    wake_deliveries,
)
from fedi.federation.liveness import STALE_AFTER

__all__ = [
    "Claim",
    "Claimed",
    "Outcome",
    "PeerSnapshot",
    "Recorded",
    "anything_due",
    "claim_due",
    "host_answered",
    "record_outcomes",
]

# How stale ``peers.last_success_at`` may get before a success on a healthy host rewrites it.
_SUCCESS_REFRESH = timedelta(minutes=10)


@dataclass(frozen=True)
class Claimed:
    """One leased row. ``attempts`` already counts the attempt about to be made; ``lease`` is the
    ``leased_until`` written by the claim (the outcome is only recorded while it is still ours).
    """

    id: int
    activity_id: int
    inbox: str
    host: str
    attempts: int
    lease: datetime


@dataclass(frozen=True)
class PeerSnapshot:
    """A host's stored failure count and availability when the batch was claimed."""

    failures: int
    available: bool


@dataclass(frozen=True)
class Claim:
    jobs: list[Claimed]
    peers: dict[str, PeerSnapshot]


@dataclass(frozen=True)
class Outcome:
    """What happened to a claimed row: an ``attempt``, or ``None`` when it was postponed
    (not attempted) until ``postponed_until``.
    """

    job: Claimed
    attempt: Attempt | None
    postponed_until: datetime | None = None


@dataclass(frozen=True)
class Recorded:
    """The state written for an outcome, for the log line."""

    kind: Literal["delivered", "retry", "failed", "postponed"]
    at: datetime | None = None
    reason: str | None = None


def host_answered(attempt: Attempt) -> bool:
    """Whether the host itself is up: it answered with something other than 5xx, 408 or 429."""
    return attempt.status is not None and attempt.status < 500 and attempt.status not in (408, 429)


def _mine(table: Table) -> ColumnElement[bool]:
    """A delivery row still pending under the lease this worker took (``b_id``, ``b_lease``)."""
    return and_(
        table.c.id == bindparam("b_id"),
        table.c.leased_until == bindparam("b_lease", type_=table.c.leased_until.type),
        table.c.state == DeliveryState.PENDING,
    )


# The outcome UPDATE of attempted deliveries, compiled once per database dialect.
_ATTEMPTED: WeakKeyDictionary[Dialect, Bound] = WeakKeyDictionary()


def _attempted_update(dialect: Dialect) -> Bound:
    bound = _ATTEMPTED.get(dialect)
    if bound is None:
        table = _table()
        statement = (
            update(table)
            .where(_mine(table))
            .values(
                state=bindparam("b_state", type_=table.c.state.type),
                next_attempt_at=func.coalesce(
                    bindparam("b_next", type_=table.c.next_attempt_at.type),
                    table.c.next_attempt_at,
                ),
                leased_until=None,
                last_status=bindparam("b_status", type_=table.c.last_status.type),
                last_error=bindparam("b_error", type_=table.c.last_error.type),
                delivered_at=bindparam("b_delivered", type_=table.c.delivered_at.type),
            )
        )
        bound = _ATTEMPTED[dialect] = Prepared(statement, dialect).bind({})
    return bound


def _table() -> Table:
    table = Delivery.__table__
    assert isinstance(table, Table)
    return table


def _due(entity: Any, now: datetime, stale: timedelta) -> ColumnElement[bool]:
    """Pending, due, and not leased: never leased, its lease ended, or its worker is dead (its
    heartbeat older than ``stale``, or its row gone)."""
    holder_alive = (
        select(WorkerProcess.id)
        .where(WorkerProcess.id == entity.leased_by, WorkerProcess.heartbeat_at > now - stale)
        .exists()
    )
    return and_(
        entity.state == DeliveryState.PENDING,
        entity.next_attempt_at <= now,
        or_(
            entity.leased_until.is_(None),
            entity.leased_until <= now,
            and_(entity.leased_by.is_not(None), ~holder_alive),
        ),
    )


def anything_due(connection: Connection, *, now: datetime, stale: timedelta) -> bool:
    """Whether any row is due as :func:`claim_due` takes them: a read alone, so that a worker
    with nothing to send does not open a write transaction to find that out."""
    query = select(Delivery.id).where(_due(Delivery, now, stale)).limit(1)
    return connection.execute(query).first() is not None


async def _postpone_open_circuits(session: AsyncSession, now: datetime, stale: timedelta) -> None:
    """Move every due row of a host whose circuit is open to the circuit's end.

    ``SKIP LOCKED`` (PostgreSQL) leaves rows another worker is claiming to that worker, so two
    workers doing this at once never wait on each other.
    """
    candidate = aliased(Delivery)
    locked = (
        select(candidate.id)
        .join(Peer, Peer.host == candidate.host)
        .where(_due(candidate, now, stale), Peer.circuit_open_until > now)
        .with_for_update(of=candidate, skip_locked=True)
    )
    circuit_end = (
        select(Peer.circuit_open_until).where(Peer.host == Delivery.host).scalar_subquery()
    )
    await session.execute(
        update(Delivery)
        .where(Delivery.id.in_(locked))
        .values(next_attempt_at=circuit_end)
        .execution_options(synchronize_session=False)
    )


async def claim_due(
    session: AsyncSession,
    *,
    now: datetime,
    lease: timedelta,
    limit: int,
    quota: int,
    held: Mapping[str, int],
    exclude: Collection[str],
    circuit: CircuitPolicy,
    worker_id: int | None = None,
    stale: timedelta = STALE_AFTER,
) -> Claim | None:
    """Lease up to ``limit`` due rows, at most ``quota`` per host less what the caller already
    ``held``s, none of the ``exclude``d hosts; ``None`` when nothing is to be sent. The leases
    name ``worker_id`` (a registered worker, see :mod:`fedi.federation.liveness`), if given;
    rows leased by a worker whose heartbeat is older than ``stale`` are due.

    Run inside the caller's (short) transaction. Rows of hosts whose circuit is open are moved to
    the circuit's end; of a half-open host only one row is kept, as a probe, and only when the
    caller holds none of it. Rows not kept are released as they were. Rows of hosts whose
    circuit is open are all moved to its end first, however many.
    """
    if limit < 1:
        return None
    await _postpone_open_circuits(session, now, stale)
    ranked_entity = aliased(Delivery)
    ranked_query = select(
        ranked_entity.id.label("id"),
        ranked_entity.next_attempt_at.label("at"),
        func.row_number()
        .over(
            partition_by=ranked_entity.host,
            order_by=(ranked_entity.next_attempt_at, ranked_entity.id),
        )
        .label("rank"),
    ).where(_due(ranked_entity, now, stale))
    if exclude:
        ranked_query = ranked_query.where(ranked_entity.host.not_in(list(exclude)))
    ranked = ranked_query.subquery()
    chosen = (
        select(ranked.c.id)
        .where(ranked.c.rank <= quota)
        .order_by(ranked.c.at, ranked.c.id)
        .limit(limit)
    )
    locking = aliased(Delivery)
    locked = (
        select(locking.id)
        .where(locking.id.in_(chosen), _due(locking, now, stale))
        .with_for_update(skip_locked=True)
    )
    until = now + lease
    rows = list(
        (
            await session.execute(
                update(Delivery)
                .where(Delivery.id.in_(locked))
                .values(leased_until=until, leased_by=worker_id, attempts=Delivery.attempts + 1)
                .returning(
                    Delivery.id,
                    Delivery.activity_id,
                    Delivery.inbox,
                    Delivery.host,
                    Delivery.attempts,
                    Delivery.next_attempt_at,
                )
                .execution_options(synchronize_session=False)
            )
        ).all()
    )
    if not rows:
        return None
    rows.sort(key=lambda row: (row.next_attempt_at, row.id))
    peers = await load_peers(session, {row.host for row in rows})

    jobs: list[Claimed] = []
    postponed: list[dict[str, Any]] = []
    released: list[int] = []
    taken: dict[str, int] = {}
    for row in rows:
        peer = peers.get(row.host)
        if peer is not None and peer.circuit_open_until and peer.circuit_open_until > now:
            postponed.append({"b_id": row.id, "b_next": peer.circuit_open_until})
            continue
        allowed = quota - held.get(row.host, 0)
        if peer is not None and (peer.consecutive_failures or 0) >= circuit.threshold:
            allowed = 1 if not held.get(row.host) else 0  # half-open: one probe
        if taken.get(row.host, 0) >= allowed:
            released.append(row.id)
            continue
        taken[row.host] = taken.get(row.host, 0) + 1
        jobs.append(Claimed(row.id, row.activity_id, row.inbox, row.host, row.attempts, until))

    table = _table()
    if postponed:
        await (await session.connection()).execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(
                next_attempt_at=bindparam("b_next", type_=table.c.next_attempt_at.type),
                leased_until=None,
                attempts=table.c.attempts - 1,
            ),
            postponed,
        )
    if released:
        await session.execute(
            update(Delivery)
            .where(Delivery.id.in_(released))
            .values(leased_until=None, attempts=Delivery.attempts - 1)
            .execution_options(synchronize_session=False)
        )
    if not jobs:
        return None
    snapshots = {
        host: PeerSnapshot(peer.consecutive_failures or 0, peer.available is not False)
        for host, peer in peers.items()
    }
    return Claim(jobs, snapshots)


def _apply_to_peer(
    peer: Peer,
    attempt: Attempt,
    now: datetime,
    policy: CircuitPolicy,
    revived: set[str],
    touched: set[str],
) -> None:
    if not host_answered(attempt):
        record_failure(peer, now, policy)
        return
    if healthy(peer):
        if peer.last_success_at is None or now - peer.last_success_at > _SUCCESS_REFRESH:
            touched.add(peer.host)  # written in one statement for all such hosts
        return
    if (peer.consecutive_failures or 0) >= policy.threshold or peer.available is False:
        revived.add(peer.host)
    record_success(peer, now)


async def record_outcomes(
    session: AsyncSession,
    outcomes: Sequence[Outcome],
    *,
    now: datetime,
    retry_policy: RetryPolicy,
    circuit_policy: CircuitPolicy,
    uniform: Callable[[float, float], float],
) -> list[tuple[Outcome, Recorded]]:
    """Write each outcome (in the caller's transaction) and update the hosts' circuits; return
    the state recorded for each, in order.

    A row is only written while its lease is still the one this worker took (and it is still
    pending): if the lease expired and another worker took the row over, that worker's outcome
    stands. A host that recovers from an open circuit or from being unavailable has its
    postponed deliveries made due at once.
    """
    hosts = {outcome.job.host for outcome in outcomes}
    peers = await load_peers(session, hosts, lock=True)
    if missing := hosts - set(peers):
        await ensure_peers(session, missing)
        peers.update(await load_peers(session, missing, lock=True))
    revived: set[str] = set()
    touched: set[str] = set()
    attempted: list[dict[str, Any]] = []
    postponed: list[dict[str, Any]] = []
    recorded: list[tuple[Outcome, Recorded]] = []
    for outcome in outcomes:
        job = outcome.job
        if outcome.attempt is None:
            postponed.append(
                {"b_id": job.id, "b_lease": job.lease, "b_next": outcome.postponed_until}
            )
            recorded.append((outcome, Recorded("postponed", outcome.postponed_until)))
            continue
        peer = peers[job.host]
        _apply_to_peer(peer, outcome.attempt, now, circuit_policy, revived, touched)
        state = next_state(
            outcome.attempt,
            job.attempts,
            now,
            retry_policy,
            peer_available=peer.available is not False,
            uniform=uniform,
        )
        row = {
            "b_id": job.id,
            "b_lease": job.lease,
            "b_status": outcome.attempt.status,
            "b_state": DeliveryState.PENDING,
            "b_next": None,
            "b_error": None,
            "b_delivered": None,
        }
        if isinstance(state, Delivered):
            row.update(b_state=DeliveryState.DELIVERED, b_delivered=now)
            recorded.append((outcome, Recorded("delivered")))
        elif isinstance(state, Failed):
            row.update(b_state=DeliveryState.FAILED, b_error=state.reason[:1000])
            recorded.append((outcome, Recorded("failed", reason=state.reason)))
        else:
            row.update(b_next=state.at, b_error=state.reason[:1000])
            recorded.append((outcome, Recorded("retry", state.at, state.reason)))
        attempted.append(row)

    table = _table()
    connection = await session.connection()
    if attempted:
        # One executemany on the driver: SQLAlchemy's per-row parameter handling cost more
        # than the rest of a delivery's bookkeeping (the fan-out benchmark).
        statement = _attempted_update(connection.dialect)
        await connection.run_sync(statement.execute_many, attempted)
    if postponed:
        await connection.execute(
            update(table)
            .where(_mine(table))
            .values(
                next_attempt_at=bindparam("b_next", type_=table.c.next_attempt_at.type),
                leased_until=None,
                attempts=table.c.attempts - 1,
            ),
            postponed,
        )
    await session.flush()
    touched -= {peer.host for peer in peers.values() if not healthy(peer)}
    if touched:
        await session.execute(
            update(Peer)
            .where(Peer.host.in_(sorted(touched)))
            .values(last_success_at=now)
            .execution_options(synchronize_session=False)
        )
    for host in sorted(revived):
        await wake_deliveries(session, host, now)
    return recorded
