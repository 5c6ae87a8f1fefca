"""Reads on the request path with as few hand-overs between threads as the backend allows.

The async SQLite driver runs each connection in a thread of its own, and every statement,
checkout and rollback is a hand-over to it and back; under load those hand-overs cost more than
the query. SQLite answers a read from its write-ahead log in microseconds and never waits for a
writer there, so :meth:`HotReads.run` runs it on a synchronous connection in the caller's thread,
kept open for the next read (each read ends its transaction, so it sees the latest commit).
PostgreSQL reads go over the async engine (psycopg needs no thread). The read itself is one
function of a synchronous :class:`~sqlalchemy.engine.Connection` either way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from fedi.db.engine import make_sync_engine

__all__ = ["HotReads"]

_T = TypeVar("_T")


class HotReads:
    """Runs short reads for ``engine``'s database (``database_url``); see the module."""

    def __init__(self, database_url: str, engine: AsyncEngine) -> None:
        self._engine = engine
        is_sqlite = make_url(database_url).get_backend_name() == "sqlite"
        self._inline = make_sync_engine(database_url) if is_sqlite else None
        self._connection: Connection | None = None

    async def run(self, read: Callable[[Connection], _T]) -> _T:
        """``read(connection)``, in a transaction of its own, ended right after."""
        if self._inline is not None:
            if self._connection is None:
                self._connection = self._inline.connect()
            try:
                return read(self._connection)
            finally:
                self._connection.rollback()
        async with self._engine.connect() as connection:
            return await connection.run_sync(read)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        if self._inline is not None:
            self._inline.dispose()
