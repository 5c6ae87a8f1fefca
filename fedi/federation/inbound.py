"""Processing of received activities: the inbox records them, :class:`InboxProcessor` works them.

Each activity is claimed (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several workers can share
the queue) and handled in its own transaction, then marked ``processed``, or ``failed`` with the
reason when a handler refuses it (:class:`Dropped`, a failed fetch, a malformed document). Any
other exception (a bug, text the database cannot store) marks it ``failed`` at once with the
exception as its reason: a poison activity is tried once, never in a loop. Only a failure of the
database itself (``OperationalError``, ``InterfaceError``) leaves it ``received`` for a later pass.

Handlers (:mod:`fedi.federation.handlers`) fetch what they need before they write, so that on
SQLite no write lock is held across a network call. What can wait (the missing ancestors of a
stored reply, :mod:`fedi.content.ancestors`) is fetched after the activity's transaction is
committed, with no session open.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Collection
from typing import Any

import anyio
from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import InterfaceError, OperationalError

from fedi.content.ancestors import fetch_ancestors
from fedi.content.backfill import backfill_thread
from fedi.db.models import Activity, ActivityState, Actor
from fedi.errors import FediError
from fedi.federation.handlers import Dropped, Job, handler_for
from fedi.federation.shapes import read_activity, type_of
from fedi.instance import InstanceContext
from fedi.log import log_event, request_id_var
from fedi.net.client import FetchBudget
from fedi.net.errors import FetchError

__all__ = ["Dropped", "InboxProcessor"]

_log = logging.getLogger("fedi.job")


class InboxProcessor:
    """Works ``received`` activities. Those of one origin (the actor's host) are worked one at a
    time in id order, so that a ``Create``, its ``Update`` and its ``Delete`` apply in the order
    they were received; those of different origins run side by side, at most ``concurrency``
    origins at once, so that one stalling peer (a fetch that waits out its deadline) delays only
    its own activities. Each activity holds one database session while it is worked, so
    ``concurrency`` stays well under the connection pool.

    ``run_once`` is one pass over what is received now (tests step it); ``run`` keeps taking new
    activities as origins free up, until ``stop`` is set, polling every ``poll_interval`` seconds
    when nothing is waiting.
    """

    def __init__(
        self,
        ctx: InstanceContext,
        *,
        batch_size: int = 100,
        concurrency: int = 8,
        lane_length: int = 20,
        poll_interval: float = 0.25,
    ) -> None:
        if concurrency < 1 or lane_length < 1 or batch_size < 1:
            raise ValueError("batch_size, concurrency and lane_length must be at least 1")
        self.ctx = ctx
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.lane_length = lane_length
        self.poll_interval = poll_interval
        self._wake: anyio.Event | None = None

    def wake(self) -> None:
        """Look for received activities now (one was recorded) rather than after the poll."""
        if self._wake is not None:
            self._wake.set()

    async def run(self, stop: anyio.Event | asyncio.Event) -> None:
        """Process until ``stop`` is set; the activities being worked then are abandoned (their
        transactions roll back, they stay ``received``)."""
        busy: set[str] = set()  # origins with a lane running
        skipped: set[int] = set()  # left received (another worker had it): wait a poll
        self._wake = anyio.Event()

        async def lane(origin: str, ids: list[int]) -> None:
            try:
                for activity_id in ids:
                    if not await self._work(activity_id):
                        skipped.add(activity_id)
            finally:
                busy.discard(origin)
                self.wake()

        async def watch() -> None:
            await stop.wait()
            self.wake()

        async with anyio.create_task_group() as group:
            group.start_soon(watch)
            while not stop.is_set():
                lanes: dict[str, list[int]] = {}
                if len(busy) < self.concurrency:
                    lanes = await self._lanes(self.concurrency - len(busy), busy, skipped)
                for origin, ids in lanes.items():
                    busy.add(origin)
                    group.start_soon(lane, origin, ids)
                if lanes:
                    continue
                with anyio.move_on_after(self.poll_interval) as idle:
                    await self._wake.wait()
                self._wake = anyio.Event()
                if idle.cancelled_caught:
                    skipped.clear()  # tried again once a poll interval has passed
            group.cancel_scope.cancel()

    async def run_once(self) -> int:
        """One pass over the queue (at most ``batch_size`` activities, each tried once, origins
        side by side); returns how many were marked processed or failed."""
        lanes = await self._lanes(self.batch_size, (), ())
        limiter = anyio.Semaphore(self.concurrency)
        done = 0

        async def lane(ids: list[int]) -> None:
            nonlocal done
            async with limiter:
                for activity_id in ids:
                    done += await self._work(activity_id)

        async with anyio.create_task_group() as group:
            for ids in lanes.values():
                group.start_soon(lane, ids)
        return done

    async def _lanes(
        self, origins: int, busy: Collection[str], skipped: Collection[int]
    ) -> dict[str, list[int]]:
        """The oldest received activities of at most ``origins`` origins, none of them ``busy``,
        by origin in id order: at most ``lane_length`` of one origin, so that a flood from one
        host cannot fill a batch, and ``batch_size`` in all."""
        candidates = (
            select(
                Activity.id.label("id"),
                Actor.domain.label("origin"),
                func.row_number()
                .over(partition_by=Actor.domain, order_by=Activity.id)
                .label("rank"),
            )
            .join(Actor, Actor.id == Activity.actor_id)
            .where(Activity.state == ActivityState.RECEIVED, Activity.local.is_(False))
        )
        if busy:
            candidates = candidates.where(Actor.domain.not_in(sorted(busy)))
        if skipped:
            candidates = candidates.where(Activity.id.not_in(sorted(skipped)))
        ranked = candidates.subquery()
        query = (
            select(ranked.c.id, ranked.c.origin)
            .where(ranked.c.rank <= self.lane_length)
            .order_by(ranked.c.id)
            .limit(self.batch_size)
        )

        def read(connection: Connection) -> dict[str, list[int]]:
            lanes: dict[str, list[int]] = {}
            for activity_id, origin in connection.execute(query):
                if origin in lanes or len(lanes) < origins:
                    lanes.setdefault(origin, []).append(activity_id)
            return lanes

        # A read alone, polled while idle: the cheapest way the database allows.
        return await self.ctx.hot_reads.run(read)

    async def _work(self, activity_id: int) -> bool:
        token = request_id_var.set(None)  # set to the activity's own once it is loaded
        try:
            return await self._work_one(activity_id)
        finally:
            request_id_var.reset(token)

    async def _work_one(self, activity_id: int) -> bool:
        started = time.perf_counter()
        fields: dict[str, Any] = {"job": "inbox", "activity_id": activity_id}
        failure: str | None = None
        missing_parents: list[str] = []
        new_threads: list[tuple[str | None, str | None]] = []
        try:
            async with self.ctx.sessions() as session:
                activity = await session.scalar(
                    select(Activity)
                    .where(Activity.id == activity_id, Activity.state == ActivityState.RECEIVED)
                    .with_for_update(skip_locked=True)
                )
                if activity is None:
                    return False  # another worker has it, or had it
                actor = await session.get(Actor, activity.actor_id)
                fields.update(type=activity.type, uri=activity.uri)
                # Log lines and the activities this job sends carry the inbox request's id.
                request_id_var.set(activity.request_id)
                try:
                    if actor is None:  # pragma: no cover - the foreign key cascades
                        raise Dropped("actor is gone")
                    job = Job(
                        ctx=self.ctx,
                        session=session,
                        activity=activity,
                        actor=actor,
                        shape=read_activity(activity.document),
                        budget=FetchBudget(20),
                    )
                    embedded = job.shape.object
                    handler = handler_for(
                        job.shape.type, type_of(embedded) if embedded is not None else None
                    )
                    outcome = await handler(job) if handler is not None else "recorded"
                except (FediError, FetchError) as exc:
                    # A verdict on this activity, not a crash: undo what the handler wrote and
                    # mark it failed below.
                    await session.rollback()
                    failure = _reason(exc)
                else:
                    activity.state = ActivityState.PROCESSED
                    activity.attempts += 1
                    activity.error = None
                    activity.processed_at = self.ctx.clock()
                    await session.commit()
                    fields.update(state="processed", outcome=outcome)
                    missing_parents = job.missing_parents
                    new_threads = job.new_threads
            if failure is not None:
                await self._finish(activity_id, ActivityState.FAILED, failure)
                fields.update(state="failed", error=failure)
        except (OperationalError, InterfaceError) as exc:
            # The database itself failed (a restart, a lost connection, a lock timeout): not a
            # verdict on the activity. It stays ``received`` for the next pass.
            fields.update(state="received", error=f"database: {type(exc).__name__}")
            fields["duration_ms"] = _ms(started)
            _log.warning("inbox activity", exc_info=True, extra={"fields": fields})
            return False
        except Exception as exc:
            # Anything else is a bug or a poison activity (text the database cannot store, say):
            # retrying would crash again, so it is marked failed once, with its reason.
            failure = f"crash: {type(exc).__name__}: {exc}"
            await self._finish(activity_id, ActivityState.FAILED, failure)
            fields.update(state="failed", error=failure[:200])
            fields["duration_ms"] = _ms(started)
            # log_event's shape, plus the traceback: a crash is a bug to fix.
            _log.error("inbox activity", exc_info=True, extra={"fields": fields})
            return True
        log_event(_log, "inbox activity", duration_ms=_ms(started), **fields)
        # After the commit, with no session open: the fetches wait on other servers.
        await self._complete_threads(missing_parents, new_threads, fields)
        return True

    async def _complete_threads(
        self,
        missing_parents: list[str],
        new_threads: list[tuple[str | None, str | None]],
        fields: dict[str, Any],
    ) -> None:
        """A stored reply's missing ancestors, then the earlier posts of a thread first seen."""
        starts: list[str] = []
        try:
            for parent in missing_parents:
                walk = await fetch_ancestors(self.ctx, parent)
                if walk.stopped == "thread start" and walk.stored:
                    starts.append(walk.stored[-1])
            for context, start in new_threads:
                start = start or (starts[-1] if starts else None)
                if context is not None or start is not None:
                    await backfill_thread(self.ctx, context=context, root=start)
        except (OperationalError, InterfaceError):
            # The reply itself is stored; its context can come with the next reply.
            _log.warning("reply ancestors", exc_info=True, extra={"fields": fields})
        except Exception:
            # A bug while completing a thread: the activity is done, the worker goes on.
            _log.error("thread backfill", exc_info=True, extra={"fields": fields})

    async def _finish(self, activity_id: int, state: ActivityState, error: str) -> None:
        async with self.ctx.sessions() as session:
            await session.execute(
                update(Activity)
                .where(Activity.id == activity_id, Activity.state == ActivityState.RECEIVED)
                .values(
                    state=state,
                    # A reason quoting the poison itself must still be storable.
                    error=error[:2000].encode("utf-8", "backslashreplace").decode(),
                    attempts=Activity.attempts + 1,
                    processed_at=self.ctx.clock(),
                )
            )
            await session.commit()


def _reason(exc: Exception) -> str:
    reason = getattr(exc, "reason", None)
    return reason if isinstance(reason, str) else str(exc) or type(exc).__name__


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
