"""The inbox's group commit and hot reads, on both databases."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from fedi.db.engine import make_async_engine, make_sync_engine
from fedi.db.group_insert import GroupInsert
from fedi.db.hot_reads import HotReads

_metadata = MetaData()
_items = Table(
    "group_insert_items",
    _metadata,
    Column("id", Integer, primary_key=True),
    Column("uri", String(64), unique=True),
    Column("n", Integer),
)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    sync = make_sync_engine(database_url)
    _metadata.create_all(sync)
    sync.dispose()
    engine = make_async_engine(database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


async def count(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(_items))).scalar())


async def test_concurrent_rows_are_written_and_duplicates_skipped(
    engine: AsyncEngine, database_url: str
) -> None:
    writes = GroupInsert(engine, database_url, _items, "uri")
    try:
        rows = [{"uri": f"u{n % 40}", "n": n} for n in range(50)]  # ten ids twice
        await asyncio.gather(*(writes.write(row) for row in rows))
        assert await count(engine) == 40
        async with engine.connect() as connection:
            kept = (await connection.execute(select(_items.c.n).where(_items.c.uri == "u3"))).all()
        assert kept == [(3,)]  # the first copy stays
    finally:
        await writes.aclose()


@pytest.fixture
async def sqlite_engine(tmp_path: Path) -> AsyncIterator[tuple[AsyncEngine, str]]:
    """An engine on a SQLite file of its own: the write lock below is SQLite's alone."""
    database_url = f"sqlite:///{(tmp_path / 'lock.sqlite3').as_posix()}"
    sync = make_sync_engine(database_url)
    _metadata.create_all(sync)
    sync.dispose()
    engine = make_async_engine(database_url)
    try:
        yield engine, database_url
    finally:
        await engine.dispose()


async def test_a_sqlite_write_lock_held_elsewhere_is_waited_for_off_the_loop(
    sqlite_engine: tuple[AsyncEngine, str],
) -> None:
    engine, database_url = sqlite_engine
    other = sqlite3.connect(make_url(database_url).database or "", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    writes = GroupInsert(engine, database_url, _items, "uri")
    try:
        written = asyncio.create_task(writes.write({"uri": "locked", "n": 1}))
        started = time.monotonic()
        for _ in range(20):  # the loop keeps running while the write waits
            await asyncio.sleep(0.01)
        assert time.monotonic() - started < 2.0  # not held in SQLite's busy handler
        assert not written.done()
        other.execute("COMMIT")
        await asyncio.wait_for(written, 10)
        assert await count(engine) == 1
    finally:
        other.close()
        await writes.aclose()


async def test_hot_reads_see_every_commit(engine: AsyncEngine, database_url: str) -> None:
    reads = HotReads(database_url, engine)
    try:

        def total(connection: Connection) -> int:
            return int(connection.execute(select(func.count()).select_from(_items)).scalar())

        assert await reads.run(total) == 0
        async with engine.begin() as connection:
            await connection.execute(insert(_items), [{"uri": "a", "n": 1}])
        assert await reads.run(total) == 1  # the kept connection holds no old snapshot
    finally:
        reads.close()
