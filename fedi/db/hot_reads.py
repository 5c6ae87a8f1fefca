"""Reads on the request path with as few hand-overs between threads as the backend allows.

The async SQLite driver runs each connection in a thread of its own, and every statement,
checkout and rollback is a hand-over to it and back; under load those hand-overs cost more than
the query. SQLite answers a read from its write-ahead log in microseconds and never waits for a
writer there, so :meth:`HotReads.run` runs it on a synchronous connection in the caller's thread.
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

    async def run(self, read: Callable[[Connection], _T]) -> _T:
        """``read(connection)``, on a connection returned to the pool right after."""
        if self._inline is not None:
            with self._inline.connect() as connection:
                return read(connection)
        async with self._engine.connect() as connection:
            return await connection.run_sync(read)

    def close(self) -> None:
        if self._inline is not None:
            self._inline.dispose()
