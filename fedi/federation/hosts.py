"""Delivery health per remote host: a circuit breaker per host, and the unavailable mark.

After ``threshold`` consecutive failed deliveries to a host its circuit opens for a period that
doubles with each further failure (``base_open`` up to ``cap_open``); while it is open, deliveries
to the host are postponed, not attempted. When it has passed, the circuit is *half-open*: one
delivery probes the host, and its outcome closes the circuit or opens it again for longer.
A host failing for longer than ``unavailable_after`` is marked ``available=False``; its deliveries
then back off at the retry cap. Any success (or a signed request from the host, see
:func:`mark_peer_alive`) resets all of it and brings the host's postponed deliveries forward.

The transition functions are pure over a :class:`~fedi.db.models.Peer` and a time; the database
helpers only load, lock and create rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.db.models import Delivery, DeliveryState, Peer, utcnow

__all__ = [
    "CircuitPolicy",
    "circuit_open",
    "ensure_peers",
    "half_open",
    "healthy",
    "load_peers",
    "mark_peer_alive",
    "record_failure",
    "record_success",
    "wake_deliveries",
]


@dataclass(frozen=True, kw_only=True)
class CircuitPolicy:
    """When a host's circuit opens, for how long, and when the host counts as unavailable."""

    threshold: int = 5
    base_open: timedelta = timedelta(minutes=1)
    cap_open: timedelta = timedelta(hours=6)
    unavailable_after: timedelta = timedelta(days=2)


def circuit_open(peer: Peer, now: datetime) -> bool:
    """Whether deliveries to ``peer`` are to be postponed rather than attempted at ``now``."""
    return peer.circuit_open_until is not None and peer.circuit_open_until > now


def half_open(peer: Peer, now: datetime, policy: CircuitPolicy) -> bool:
    """Whether the circuit has opened and its period has passed: one probe may go out."""
    return (peer.consecutive_failures or 0) >= policy.threshold and not circuit_open(peer, now)


def healthy(peer: Peer) -> bool:
    """No failure recorded since the last success: nothing to reset on the next one."""
    return (
        not peer.consecutive_failures
        and peer.available is not False
        and not peer.circuit_open_until
    )


def record_failure(peer: Peer, now: datetime, policy: CircuitPolicy) -> None:
    """Count one failed delivery to ``peer`` at ``now``; open the circuit and mark the peer
    unavailable as the policy says.
    """
    failures = (peer.consecutive_failures or 0) + 1
    peer.consecutive_failures = failures
    if peer.first_failure_at is None:
        peer.first_failure_at = now
    if failures >= policy.threshold:
        doublings = min(failures - policy.threshold, 30)
        period = min(policy.base_open * (2**doublings), policy.cap_open)
        peer.circuit_open_until = now + period
    if now - peer.first_failure_at >= policy.unavailable_after:
        peer.available = False


def record_success(peer: Peer, now: datetime) -> None:
    """A delivery to ``peer`` succeeded: close the circuit, forget the failures."""
    peer.consecutive_failures = 0
    peer.first_failure_at = None
    peer.circuit_open_until = None
    peer.available = True
    peer.last_success_at = now


async def ensure_peers(session: AsyncSession, hosts: Iterable[str]) -> None:
    """Create the missing ``peers`` rows for ``hosts`` (safe against a concurrent creator)."""
    rows = [{"host": host} for host in sorted(set(hosts))]
    if not rows:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    # Rows as executemany parameters: one statement, compiled once and cached, whatever the count.
    insert = dialect.insert(Peer).on_conflict_do_nothing(index_elements=["host"])
    await session.execute(insert, rows)


async def load_peers(
    session: AsyncSession, hosts: Iterable[str], *, lock: bool = False
) -> dict[str, Peer]:
    """The ``peers`` rows of ``hosts`` by host; with ``lock``, locked in host order (PostgreSQL)
    so that two workers updating overlapping hosts cannot deadlock.
    """
    wanted = sorted(set(hosts))
    if not wanted:
        return {}
    query = select(Peer).where(Peer.host.in_(wanted)).order_by(Peer.host)
    if lock:
        query = query.with_for_update()
    peers = (await session.scalars(query)).all()
    return {peer.host: peer for peer in peers}


async def wake_deliveries(session: AsyncSession, host: str, now: datetime) -> int:
    """Make ``host``'s postponed pending deliveries due at ``now``; return how many."""
    result = await session.execute(
        update(Delivery)
        .where(
            Delivery.host == host,
            Delivery.state == DeliveryState.PENDING,
            Delivery.next_attempt_at > now,
        )
        .values(next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def mark_peer_alive(
    session: AsyncSession,
    host: str,
    now: datetime | None = None,
    policy: CircuitPolicy | None = None,
) -> bool:
    """``host`` proved alive (e.g. a signed request from it arrived): if it was failing, close its
    circuit, mark it available and, if its circuit had opened or it was unavailable, make its
    postponed deliveries due now. Returns whether anything changed. Runs in the caller's
    transaction and writes nothing for a healthy or unknown host.
    """
    moment = now or utcnow()
    rules = policy or CircuitPolicy()
    peer = (await load_peers(session, [host], lock=True)).get(host)
    if peer is None or healthy(peer):
        return False
    broken = (peer.consecutive_failures or 0) >= rules.threshold or peer.available is False
    peer.consecutive_failures = 0
    peer.first_failure_at = None
    peer.circuit_open_until = None
    peer.available = True
    await session.flush()
    if broken:
        await wake_deliveries(session, host, moment)
    return True
