"""Group commit: statements from many concurrent requests, executed and committed together.

One thread owns a synchronous connection and works a queue: it takes every statement waiting,
runs them in order in one transaction, commits once, and only then tells each caller its
statement's ``rowcount``. A caller therefore hears back only once its row is durable, but a
burst of requests shares one commit (the costly part on SQLite) and one trip to the thread.

If any statement of a batch raises, the batch is rolled back and its statements are run again
one by one, each in its own transaction, so that only the caller of the faulty statement gets
the exception (the inbox then runs its full path).

A hot statement can be :class:`fedi.db.prepared.Prepared` (or one :class:`~fedi.db.prepared.Bound`
to some of its values): compiled once and run on the driver's own cursor.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Executable

from fedi.db.prepared import Bound, Prepared

__all__ = ["GroupCommit"]

_MAX_BATCH = 128


@dataclass(frozen=True)
class _Pending:
    statement: Executable | Prepared | Bound
    params: dict[str, Any]
    done: Future[int]


def _run(connection: Connection, pending: _Pending) -> int:
    if isinstance(pending.statement, Prepared | Bound):
        return pending.statement.execute(connection, pending.params)
    return connection.execute(pending.statement, pending.params).rowcount


class GroupCommit:
    """Executes statements on ``engine`` in batches, one transaction per batch (see module)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._stopping = False  # the worker thread has taken the end-of-work marker

    async def execute(
        self, statement: Executable | Prepared | Bound, params: dict[str, Any]
    ) -> int:
        """The ``rowcount`` of ``statement`` once its batch has committed; raises what the batch
        raised (and then nothing of the batch was written). An INSERT needs the
        ``preserve_rowcount`` execution option for its count to survive on every driver."""
        done: Future[int] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("group commit is closed")
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._work, name="fedi-group-commit", daemon=True
                )
                self._thread.start()
            self._queue.put(_Pending(statement, params, done))
        return await asyncio.wrap_future(done)

    def close(self) -> None:
        """Finish the batches already queued, then stop the thread."""
        with self._lock:
            self._closed = True
            thread = self._thread
        if thread is not None:
            self._queue.put(None)
            thread.join()

    def _work(self) -> None:
        # One connection for the thread's life: checking one out of the pool for each batch
        # costs about as much as a small batch's statements. It is opened on first use, so that
        # a database that cannot be reached fails the batch, not the thread.
        connection: Connection | None = None
        try:
            while (batch := self._next_batch()) is not None:
                connection = self._commit(connection, batch)
        finally:
            if connection is not None:
                connection.close()

    def _next_batch(self) -> list[_Pending] | None:
        """Every statement waiting (at least one), or ``None`` once :meth:`close` was called and
        everything queued before has been handed out."""
        if self._stopping:
            return None
        first = self._queue.get()
        if first is None:
            return None
        batch = [first]
        while len(batch) < _MAX_BATCH:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:
                self._stopping = True
                break
            batch.append(item)
        return batch

    def _commit(self, connection: Connection | None, batch: list[_Pending]) -> Connection | None:
        """Run ``batch`` in one transaction and answer its callers; returns the connection."""
        # A caller that went away (its request was cancelled) is left out.
        live = [pending for pending in batch if pending.done.set_running_or_notify_cancel()]
        if not live:
            return connection
        try:
            if connection is None:
                connection = self._engine.connect()
            # After an error the transaction is rolled back; a connection the error invalidated
            # reconnects on next use.
            with connection.begin():
                counts = [_run(connection, pending) for pending in live]
        except Exception as exc:
            if len(live) == 1:
                live[0].done.set_exception(exc)
                return connection
            # One bad statement must not fail the others: run each in its own transaction.
            for pending in live:
                connection = self._commit_one(connection, pending)
            return connection
        for pending, count in zip(live, counts, strict=True):
            pending.done.set_result(count)
        return connection

    def _commit_one(self, connection: Connection | None, pending: _Pending) -> Connection | None:
        try:
            if connection is None:
                connection = self._engine.connect()
            with connection.begin():
                count = _run(connection, pending)
        except Exception as exc:
            pending.done.set_exception(exc)
        else:
            pending.done.set_result(count)
        return connection
