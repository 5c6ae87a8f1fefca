"""Group commit on the event loop's own thread, for SQLite.

:class:`fedi.db.group_commit.GroupCommit` hands every statement to a writer thread. With SQLite
that hand-over costs more than the statement: the two threads take turns at the interpreter
lock, and each turn waits. Here each statement runs at once, synchronously, on one connection
kept for the store's life, inside a transaction that stays open until the event loop has run
the callbacks already due; one commit then makes the whole batch durable and wakes its callers.
A statement of the inbox takes SQLite some tens of microseconds and a commit in WAL mode (with
``synchronous=NORMAL``) about as long, so the loop is held no longer than by a small request
(``bench/inbox.py``: about 3,200 recorded activities per second this way, 2,400 with a writer
thread, on the same machine).

The connection never waits for a lock (``busy_timeout`` 0): when another connection holds the
write lock, the statement fails at once with :class:`sqlalchemy.exc.OperationalError` and the
caller takes its slower path, which waits in a thread. Use one instance from one event loop.

Nor does it checkpoint the write-ahead log itself: SQLite would do it within a commit once the
log passes 1,000 pages, copying them into the database and syncing it while the loop waits
(milliseconds, every few hundred activities). A thread of its own does it instead, a passive
checkpoint every :data:`CHECKPOINT_EVERY` commits, while the loop goes on (SQLite releases the
interpreter lock meanwhile). Durability is the same: a commit is in the log either way.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from sqlalchemy import Connection, Engine

from fedi.db.prepared import Bound, Prepared

__all__ = ["CHECKPOINT_EVERY", "LoopCommit"]

_log = logging.getLogger(__name__)

# Commits between two checkpoints: with the inbox's batches, a few hundred pages of log.
CHECKPOINT_EVERY = 32


class LoopCommit:
    """Runs :class:`Prepared` and :class:`Bound` statements on the calling loop's thread; see
    the module."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._connection: Connection | None = None
        self._owner: int | None = None  # the thread that opened the connection
        self._waiting: list[asyncio.Future[None]] = []
        self._scheduled = False  # a commit is due at the end of this loop iteration
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop it is due on
        self._transactions = 0  # transactions ended (see ``transaction``)
        self._closed = False
        self._commits = 0  # since the last checkpoint began
        self._checkpoints = ThreadPoolExecutor(1, thread_name_prefix="fedi-checkpoint")
        self._checkpoint: Future[None] | None = None

    async def execute(self, statement: Prepared | Bound, params: dict[str, Any]) -> int:
        """The ``rowcount`` of ``statement`` once its batch has committed. Raises what the
        statement raised (it then changed nothing) or what the commit raised (then nothing of
        the batch was written)."""
        count = self.run(statement, params)
        await self.committed()
        return count

    def run(self, statement: Prepared | Bound, params: dict[str, Any]) -> int:
        """Run ``statement`` now, in the open transaction (:attr:`transaction`), and return its
        ``rowcount``; nothing is durable before :meth:`committed` returns. Raises what the
        statement raised (it then changed nothing)."""
        connection = self._connect()
        if not self._scheduled:
            # Before the statement runs: a failed statement's transaction is ended all the same.
            self._schedule_commit()
        if not connection.in_transaction():
            connection.begin()
        return statement.execute(connection, params)

    async def committed(self) -> None:
        """Return once what :meth:`run` has run so far is committed; raise what the commit
        raised (then nothing of the batch was written)."""
        if not self._scheduled:  # awaited later than right after run(): that commit is over
            self._schedule_commit()
        # The loop the commit is due on: asking asyncio costs a system call (getpid) each time.
        assert self._loop is not None
        done = self._loop.create_future()
        self._waiting.append(done)
        await done

    @property
    def transaction(self) -> int:
        """The number of the transaction :meth:`run` runs statements in now: it changes when a
        commit (or the rollback of a failed one) ends that transaction, and only then.

        Once a statement of this transaction has written, SQLite lets no other connection write
        until it ends, so what the statement read stays true until then."""
        return self._transactions

    def _schedule_commit(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._scheduled = True
        self._loop.call_soon(self._commit)

    def _connect(self) -> Connection:
        if self._closed:
            raise RuntimeError("loop commit is closed")
        if self._connection is None:
            self._connection = self._engine.connect()
            self._connection.exec_driver_sql("PRAGMA busy_timeout=0")
            self._connection.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
            self._owner = threading.get_ident()
        elif self._owner != threading.get_ident():
            raise RuntimeError("loop commit used from a second thread")
        return self._connection

    def _commit(self) -> None:
        self._scheduled = False
        waiting, self._waiting = self._waiting, []
        connection = self._connection
        error: Exception | None = None
        if connection is not None and connection.in_transaction():
            self._transactions += 1
            try:
                connection.commit()
            except Exception as exc:
                error = exc
                connection.rollback()
        for done in waiting:
            if done.done():
                continue  # its request was cancelled; its row stays committed
            if error is None:
                done.set_result(None)
            else:
                done.set_exception(error)
        self._commits += 1
        if self._commits >= CHECKPOINT_EVERY and (
            self._checkpoint is None or self._checkpoint.done()
        ):
            self._commits = 0
            self._checkpoint = self._checkpoints.submit(self._run_checkpoint)

    def _run_checkpoint(self) -> None:
        """A passive checkpoint on a connection of its own (in the checkpoint thread): it copies
        what no reader still needs and never waits for a lock."""
        try:
            with self._engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except Exception:
            # Nothing is lost: the log keeps the commits, and the next checkpoint copies them.
            _log.warning("write-ahead log checkpoint failed", exc_info=True)

    def close(self) -> None:
        """Commit what is pending and close the connection (from the loop's thread), once any
        checkpoint under way has finished."""
        self._closed = True
        if self._connection is not None:
            self._commit()
            self._connection.close()
            self._connection = None
        self._checkpoints.shutdown(wait=True)
