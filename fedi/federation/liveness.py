"""Which workers are alive: a registration row per worker and a heartbeat.

A worker registers (a ``workers`` row) when it starts and refreshes ``heartbeat_at`` every
:data:`HEARTBEAT_EVERY` seconds. Each delivery it leases names it (``deliveries.leased_by``).
Another worker may take a leased row over as soon as its holder's heartbeat is older than
:data:`STALE_AFTER` or its row is gone, instead of waiting for the lease to end (see
:func:`fedi.federation.leases.claim_due`).

Two live workers never send the same delivery at once: a worker's sends run inside
:meth:`Liveness.guard`, whose deadline each successful heartbeat moves on, and which cancels the
send once :data:`STALE_AFTER` less :data:`SAFETY_MARGIN` has passed since the last heartbeat
written. A worker that cannot reach the database, or whose event loop stalled, thus stops sending
before anyone may take its rows over (clocks of the workers' hosts must agree within the margin).

A worker starting up also removes the rows of its dead predecessors in the same process space
(same host, same boot, same process namespace, a process id that no longer runs): a restarted
``fedi worker`` or ``fedi serve`` takes the leases of the process it replaces over at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import socket
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import anyio
from sqlalchemy import delete, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fedi.db.models import Delivery, WorkerProcess

__all__ = [
    "HEARTBEAT_EVERY",
    "SAFETY_MARGIN",
    "STALE_AFTER",
    "Liveness",
    "process_space",
]

_log = logging.getLogger("fedi.job")

HEARTBEAT_EVERY = 2.0
STALE_AFTER = timedelta(seconds=10)
SAFETY_MARGIN = timedelta(seconds=2)
# Rows of workers silent for this long are removed by the next worker to start (housekeeping).
_FORGOTTEN_AFTER = timedelta(days=1)


def process_space() -> str:
    """Where a process id names one process: the host name, plus on Linux the boot and the pid
    namespace (two containers on one host have their own)."""
    parts = [socket.gethostname()]
    with contextlib.suppress(OSError):
        parts.append(Path("/proc/sys/kernel/random/boot_id").read_text().strip())
    with contextlib.suppress(OSError):
        parts.append(str(os.stat("/proc/self/ns/pid").st_ino))
    return "/".join(parts)[:255]


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process has that id now: not provably ours, assume alive
    return True


class Liveness:
    """This worker's registration and heartbeat; ``worker_id`` is ``None`` until registered."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Callable[[], datetime],
        *,
        stale: timedelta = STALE_AFTER,
        margin: timedelta = SAFETY_MARGIN,
        heartbeat: float = HEARTBEAT_EVERY,
    ) -> None:
        if not timedelta(0) < margin < stale or heartbeat >= (stale - margin).total_seconds():
            raise ValueError("a heartbeat must come well before the margin before staleness")
        self._sessions = sessions
        self._clock = clock
        self.stale = stale
        self._margin = margin
        self._heartbeat = heartbeat
        self.worker_id: int | None = None
        self._space = process_space()
        self._scopes: set[anyio.CancelScope] = set()
        self._fresh_until = -float("inf")  # monotonic: sends may run until then

    async def register(self) -> int:
        """Insert this worker's row, after removing dead predecessors in the same space."""
        now = self._clock()
        async with self._sessions() as session, session.begin():
            rows = await session.execute(
                select(WorkerProcess.id, WorkerProcess.pid).where(
                    WorkerProcess.space == self._space
                )
            )
            dead = [worker_id for worker_id, pid in rows if not _running(pid)]
            forgotten = WorkerProcess.heartbeat_at < now - _FORGOTTEN_AFTER
            await session.execute(
                delete(WorkerProcess).where(WorkerProcess.id.in_(dead) | forgotten)
            )
            if dead:  # their leases end now (claim_due would take them over anyway)
                await session.execute(
                    update(Delivery)
                    .where(Delivery.leased_by.in_(dead))
                    .values(leased_until=None, leased_by=None)
                )
            row = self._row(now)
            session.add(row)
            await session.flush()
            self.worker_id = row.id
        self._renewed(time.monotonic())
        return row.id

    def _row(self, now: datetime) -> WorkerProcess:
        return WorkerProcess(space=self._space, pid=os.getpid(), started_at=now, heartbeat_at=now)

    async def unregister(self) -> None:
        """Remove this worker's row (a clean stop: it holds no lease any more)."""
        if self.worker_id is None:
            return
        async with self._sessions() as session, session.begin():
            await session.execute(delete(WorkerProcess).where(WorkerProcess.id == self.worker_id))
        self.worker_id = None

    async def beat(self) -> bool:
        """Refresh the heartbeat; ``False`` when the database could not be reached."""
        if self.worker_id is None:
            return False
        started = time.monotonic()
        now = self._clock()
        try:
            async with self._sessions() as session, session.begin():
                result = await session.execute(
                    update(WorkerProcess)
                    .where(WorkerProcess.id == self.worker_id)
                    .values(heartbeat_at=now)
                )
                if result.rowcount == 0:  # type: ignore[attr-defined]
                    # Removed as dead while it could not beat: its leases may have been taken
                    # over, so the sends in flight keep their old deadline; it comes back.
                    row = self._row(now)
                    row.id = self.worker_id
                    session.add(row)
                    return True
        except SQLAlchemyError:
            _log.warning("worker heartbeat failed", exc_info=True)
            return False
        self._renewed(started)
        return True

    async def run(self, stop: anyio.Event | asyncio.Event) -> None:
        """Beat every ``heartbeat`` seconds until ``stop`` is set."""
        while not stop.is_set():
            await self.beat()
            with anyio.move_on_after(self._heartbeat):
                await stop.wait()

    def _renewed(self, at: float) -> None:
        self._fresh_until = at + (self.stale - self._margin).total_seconds()
        for scope in self._scopes:
            scope.deadline = self._fresh_until

    @contextlib.contextmanager
    def guard(self) -> Iterator[anyio.CancelScope]:
        """A cancel scope for one send, cancelled once the heartbeat is too old to vouch for
        the lease (check ``cancelled_caught`` afterwards); unbounded while not registered (its
        leases then hold until they end)."""
        deadline = self._fresh_until if self.worker_id is not None else math.inf
        with anyio.CancelScope(deadline=deadline) as scope:
            self._scopes.add(scope)
            try:
                yield scope
            finally:
                self._scopes.discard(scope)
