"""Engines and sessions: an async engine for the application, a sync one for migrations and the CLI.

``FEDI_DATABASE_URL`` names the database without a driver (``sqlite:///var/fedi.sqlite3``,
``postgresql://user@host/db``); the driver is chosen here: aiosqlite or psycopg (async), the
standard library's sqlite3 or psycopg (sync). SQLite runs in WAL mode with foreign keys enforced.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session

from fedi.files import private_file, restrict

__all__ = ["async_url", "make_async_engine", "make_sessionmaker", "make_sync_engine", "sync_url"]

_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+psycopg"}
_SYNC_DRIVERS = {"sqlite": "sqlite", "postgresql": "postgresql+psycopg"}


def _with_driver(url: str, drivers: dict[str, str]) -> str:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "postgres":
        backend = "postgresql"
    return parsed.set(drivername=drivers[backend]).render_as_string(hide_password=False)


def async_url(url: str) -> str:
    return _with_driver(url, _ASYNC_DRIVERS)


def sync_url(url: str) -> str:
    return _with_driver(url, _SYNC_DRIVERS)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _prepare_sqlite_file(url: str) -> None:
    """Create the database's directory (0700) and the file itself (0600) before SQLite does,
    which would make it readable by all; SQLite gives its ``-wal`` and ``-shm`` files the
    database file's mode. Files an earlier release left readable are tightened."""
    parsed = make_url(url)
    database = parsed.database
    if database and database != ":memory:" and not database.startswith("file:"):
        path = Path(database).expanduser()
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        private_file(path)
        for suffix in ("-wal", "-shm", "-journal"):
            restrict(path.with_name(path.name + suffix), 0o600)


def _json_text(value: Any) -> str:
    """JSON columns' text: by orjson, several times faster than the standard library (a stored
    activity is serialised on the inbox's path); what orjson refuses (a lone surrogate, an
    integer over 64 bits, a key that is not a string) the standard library writes or refuses."""
    try:
        return orjson.dumps(value).decode("utf-8")
    except (orjson.JSONEncodeError, UnicodeDecodeError):
        return json.dumps(value)


def make_async_engine(url: str) -> AsyncEngine:
    """The application's engine for ``url`` (a driver-less database URL)."""
    is_sqlite = make_url(url).get_backend_name() == "sqlite"
    if is_sqlite:
        _prepare_sqlite_file(url)
    # hide_parameters: a database error must never print a row's values (private keys, hashes).
    engine = create_async_engine(
        async_url(url),
        pool_pre_ping=not is_sqlite,
        hide_parameters=True,
        json_serializer=_json_text,
    )
    if is_sqlite:
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def make_sync_engine(url: str) -> Engine:
    """A synchronous engine for migrations and command-line tools."""
    is_sqlite = make_url(url).get_backend_name() == "sqlite"
    if is_sqlite:
        _prepare_sqlite_file(url)
    engine = create_engine(sync_url(url), hide_parameters=True, json_serializer=_json_text)
    if is_sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def make_sessionmaker(
    engine: AsyncEngine, *, after_commit: Callable[[dict[Any, Any]], None] | None = None
) -> async_sessionmaker[AsyncSession]:
    """Sessions on ``engine``; ``after_commit``, when given, hears each commit of one of them
    with the session's ``info``."""
    if after_commit is None:
        return async_sessionmaker(engine, expire_on_commit=False)
    # A class of its own, so that the listener hears only these sessions.
    session_class = type("InstanceSession", (Session,), {})

    def committed(session: Session) -> None:
        after_commit(session.info)

    event.listen(session_class, "after_commit", committed)
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=session_class)
