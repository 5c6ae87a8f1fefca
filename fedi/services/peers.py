"""Remote hosts as the administrators see them: delivery health, and "retry now".

The list puts troubled hosts first: those marked unavailable, then by failures in a row, then
by name. Each row carries the host's queue depth (deliveries still waiting) and the error of its
latest failed attempt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.db.models import Delivery, DeliveryState, Peer, utcnow
from fedi.errors import NotFoundError
from fedi.federation.hosts import wake_deliveries

__all__ = ["PeerHealth", "PeerPage", "peer_page", "retry_now"]


@dataclass(frozen=True)
class PeerHealth:
    """One remote host and how deliveries to it are going."""

    host: str
    last_success_at: datetime | None
    waiting: int
    failures: int
    last_error: str | None
    unavailable_since: datetime | None
    circuit_open_until: datetime | None

    @property
    def troubled(self) -> bool:
        return self.failures > 0 or self.unavailable_since is not None


@dataclass(frozen=True)
class PeerPage:
    rows: list[PeerHealth]
    total: int
    offset: int
    next_offset: int | None


def _order() -> tuple[ColumnElement[Any], ...]:
    unavailable_first = case((Peer.available.is_(False), 0), else_=1)
    return (unavailable_first, Peer.consecutive_failures.desc(), Peer.host.asc())


async def peer_page(session: AsyncSession, *, limit: int, offset: int = 0) -> PeerPage:
    """``limit`` hosts from ``offset`` in the troubled-first order, with their health."""
    total = int(await session.scalar(select(func.count()).select_from(Peer)) or 0)
    peers = list(
        (
            await session.scalars(select(Peer).order_by(*_order()).offset(offset).limit(limit + 1))
        ).all()
    )
    next_offset = offset + limit if len(peers) > limit else None
    peers = peers[:limit]
    hosts = [peer.host for peer in peers]
    waiting: dict[str, int] = {}
    errors: dict[str, str] = {}
    if hosts:
        counted = await session.execute(
            select(Delivery.host, func.count())
            .where(Delivery.host.in_(hosts), Delivery.state == DeliveryState.PENDING)
            .group_by(Delivery.host)
        )
        waiting = {host: int(count) for host, count in counted.all()}
        # The latest attempt that left an error: the highest id among the host's rows with one.
        latest = (
            select(func.max(Delivery.id))
            .where(Delivery.host.in_(hosts), Delivery.last_error.is_not(None))
            .group_by(Delivery.host)
        )
        found = await session.execute(
            select(Delivery.host, Delivery.last_error).where(Delivery.id.in_(latest))
        )
        errors = {host: error for host, error in found.all() if error}
    rows = [
        PeerHealth(
            host=peer.host,
            last_success_at=peer.last_success_at,
            waiting=waiting.get(peer.host, 0),
            failures=peer.consecutive_failures or 0,
            last_error=errors.get(peer.host) if peer.consecutive_failures else None,
            unavailable_since=peer.first_failure_at if peer.available is False else None,
            circuit_open_until=peer.circuit_open_until,
        )
        for peer in peers
    ]
    return PeerPage(rows, total, offset, next_offset)


async def retry_now(session: AsyncSession, host: str, now: datetime | None = None) -> int:
    """End ``host``'s back-off: its waiting deliveries become due at ``now`` and its circuit,
    if open, half-opens, so that the worker's next pass sends one as a probe (and the rest as
    soon as it gets through). The failure count stays, as the truth about the host. Returns how
    many deliveries were brought forward; :class:`NotFoundError` for an unknown host.
    """
    moment = now or utcnow()
    peer = await session.scalar(select(Peer).where(Peer.host == host).with_for_update())
    if peer is None:
        raise NotFoundError("no such remote host")
    peer.circuit_open_until = None
    await session.flush()
    return await wake_deliveries(session, host, moment)
