"""Group commit: statements from many concurrent requests, executed and committed together.

One thread owns a synchronous connection and works a queue: it takes every statement waiting,
runs them in order in one transaction, commits once, and only then tells each caller its
statement's ``rowcount``. A caller therefore hears back only once its row is durable, but a
burst of requests shares one commit (the costly part on SQLite) and one trip to the thread.

If any statement of a batch raises, the batch is rolled back and its statements are run again
one by one, each in its own transaction, so that only the caller of the faulty statement gets
the exception (the inbox then runs its full path).

A hot statement can be :class:`Prepared`: compiled once for the engine's dialect and run on the
driver's own cursor, which costs a few microseconds per row where SQLAlchemy's execution of a
compiled statement costs a hundred or more (the inbox benchmark's writer thread). Its errors
are raised as SQLAlchemy's exceptions all the same.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ClauseElement, Connection, Engine, Executable
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler

__all__ = ["GroupCommit", "Prepared"]

_MAX_BATCH = 128


class Prepared:
    """``statement`` compiled once for ``dialect``, to be run on the driver's cursor.

    Every bound parameter is named; values come from the parameters given at execution, or from
    the statement itself (literals SQLAlchemy bound). Each value goes through its type's bind
    processor, as SQLAlchemy would send it, except a value of a ``verbatim`` parameter that is
    an instance of the type given for it there, which the driver gets as is (JSON already
    serialised, say). Statements that SQLAlchemy completes only at
    execution time (expanding ``IN`` lists, literal execution) are refused.
    """

    def __init__(
        self,
        statement: ClauseElement,
        dialect: Dialect,
        *,
        verbatim: Mapping[str, type] | None = None,
    ) -> None:
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler), "a SQL statement"
        if compiled.literal_execute_params or compiled.post_compile_params:
            raise ValueError("statements with expanding or literal-execute parameters")
        self.sql = compiled.string
        self.dialect = dialect
        names = {bind: name for bind, name in compiled.bind_names.items()}
        self._order: tuple[str, ...] = tuple(
            compiled.positiontup if compiled.positional and compiled.positiontup else names.values()
        )
        self._positional = bool(compiled.positional)
        self._defaults: dict[str, Any] = {}
        self._processors: dict[str, Callable[[Any], Any]] = {}
        self._verbatim = dict(verbatim or {})
        for bind, name in names.items():
            if not bind.required:
                self._defaults[name] = bind.effective_value
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self._processors[name] = processor

    def parameters(self, params: dict[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        """The driver's parameters for one execution; ``KeyError`` if a value is missing."""
        values = []
        for name in self._order:
            value = params[name] if name in params else self._defaults[name]
            processor = self._processors.get(name)
            if processor is None or isinstance(value, self._verbatim.get(name, ())):
                values.append(value)
            else:
                values.append(processor(value))
        return tuple(values) if self._positional else dict(zip(self._order, values, strict=True))

    def execute(self, connection: Connection, params: dict[str, Any]) -> int:
        """Run on ``connection``'s driver connection, in its current transaction; the rowcount."""
        driver = connection.connection.dbapi_connection
        assert driver is not None, "the connection is open"
        cursor = driver.cursor()
        try:
            cursor.execute(self.sql, self.parameters(params))
            return int(cursor.rowcount)
        except self.dialect.loaded_dbapi.Error as exc:
            raise DBAPIError.instance(
                self.sql,
                None,
                exc,
                self.dialect.loaded_dbapi.Error,
                hide_parameters=True,
                dialect=self.dialect,
            ) from exc
        finally:
            cursor.close()


@dataclass(frozen=True)
class _Pending:
    statement: Executable | Prepared
    params: dict[str, Any]
    done: Future[int]


def _run(connection: Connection, pending: _Pending) -> int:
    if isinstance(pending.statement, Prepared):
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

    async def execute(self, statement: Executable | Prepared, params: dict[str, Any]) -> int:
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
