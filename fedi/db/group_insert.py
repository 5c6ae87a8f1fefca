"""A group commit of inserts into one table, for rows that arrive from many requests at once.

Each caller of :meth:`GroupInsert.write` waits until its row is committed. One transaction is
written at a time: the rows that arrive while it is being written go in the next one, with one
``INSERT`` for all of them (``ON CONFLICT DO NOTHING`` on ``conflict_column``, so a row whose key
is stored already is skipped rather than failing the others). One writer suits both databases:
SQLite takes one writer anyway (writers waiting for its lock sleep in its busy handler, where
here they queue), and on PostgreSQL one commit serves many rows.

On SQLite the transaction runs on a synchronous connection in the event loop's own thread: in
write-ahead-log mode with ``synchronous=NORMAL`` it takes some tens of microseconds, where
handing it to another thread costs milliseconds under load (the threads take turns at the
interpreter lock, and each turn waits). That connection never waits for SQLite's write lock
(``busy_timeout`` 0): when another connection holds it, the batch goes over the async engine,
which waits in its own thread. PostgreSQL batches always go over the async engine.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import Engine, Insert, Table, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from fedi.db.engine import make_sync_engine

__all__ = ["GroupInsert"]


def _never_wait(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=0")
    cursor.close()


class GroupInsert:
    """Rows of ``table`` written in group commits (see the module); ``database_url`` is
    ``engine``'s."""

    def __init__(
        self, engine: AsyncEngine, database_url: str, table: Table, conflict_column: str
    ) -> None:
        self._engine = engine
        self._inline: Engine | None = None
        self._insert: Insert
        if engine.dialect.name == "postgresql":
            self._insert = postgresql.insert(table).on_conflict_do_nothing(
                index_elements=[conflict_column]
            )
        else:
            self._insert = sqlite.insert(table).on_conflict_do_nothing(
                index_elements=[conflict_column]
            )
            self._inline = make_sync_engine(database_url)
            event.listen(self._inline, "connect", _never_wait)  # after the engine's own pragmas
        self._pending: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def write(self, row: dict[str, Any]) -> None:
        """Insert ``row`` (unless its key is stored already); return once it is committed, or
        raise what the transaction raised."""
        committed = asyncio.get_running_loop().create_future()
        self._pending.append((row, committed))
        if self._writer is None:
            self._writer = asyncio.create_task(self._drain())
        # Shielded: a caller that goes away (a client disconnect) leaves the batch intact.
        await asyncio.shield(committed)

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                try:
                    await self._commit([row for row, _ in batch])
                except Exception as exc:  # each waiter gets the error; the next batch goes on
                    for _, committed in batch:
                        committed.set_exception(exc)
                else:
                    for _, committed in batch:
                        committed.set_result(None)
        finally:
            self._writer = None

    async def _commit(self, rows: list[dict[str, Any]]) -> None:
        if self._inline is not None:
            try:
                with self._inline.begin() as connection:
                    connection.execute(self._insert, rows)
                return
            except OperationalError:
                pass  # another connection holds SQLite's write lock: wait for it off the loop
        async with self._engine.begin() as connection:
            await connection.execute(self._insert, rows)

    async def aclose(self) -> None:
        """Wait for the transaction being written, if any, and release the connection."""
        if self._writer is not None:
            await self._writer
        if self._inline is not None:
            self._inline.dispose()
