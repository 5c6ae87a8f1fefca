"""LoopCommit: SQLite statements on the loop's thread, one commit per loop iteration."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    event,
    insert,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError, OperationalError

from fedi.db.engine import make_sync_engine
from fedi.db.loop_commit import CHECKPOINT_EVERY, LoopCommit
from fedi.db.prepared import Prepared

_metadata = MetaData()
_items = Table(
    "loop_commit_items",
    _metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(32), unique=True),
)


@pytest.fixture
def url(tmp_path: Path) -> str:
    database = f"sqlite:///{(tmp_path / 'loop.sqlite3').as_posix()}"
    engine = make_sync_engine(database)
    _metadata.create_all(engine)
    engine.dispose()
    return database


_insert = insert(_items).values(name=bindparam("name"))


def _names(url: str) -> list[str]:
    engine = make_sync_engine(url)
    try:
        with engine.connect() as connection:
            return sorted(connection.scalars(select(_items.c.name)))
    finally:
        engine.dispose()


class CountingCommits:
    """Counts the commits on an engine's connections."""

    def __init__(self, engine: object) -> None:
        self.count = 0
        event.listen(engine, "commit", self.committed)

    def committed(self, _connection: object) -> None:
        self.count += 1


async def test_a_burst_shares_one_commit_and_each_caller_hears_after_it(url: str) -> None:
    engine = make_sync_engine(url)
    commits = CountingCommits(engine)
    writer = LoopCommit(engine)
    insert_item = Prepared(_insert, engine.dialect)
    try:
        counts = await asyncio.gather(
            *(writer.execute(insert_item, {"name": f"n{i}"}) for i in range(20))
        )
        assert counts == [1] * 20
        assert commits.count == 1
        assert _names(url) == sorted(f"n{i}" for i in range(20))  # durable when answered
    finally:
        writer.close()
        engine.dispose()


async def test_the_transaction_number_changes_when_a_transaction_ends(url: str) -> None:
    engine = make_sync_engine(url)
    writer = LoopCommit(engine)
    insert_item = Prepared(_insert, engine.dialect)
    try:
        first = writer.transaction
        assert writer.run(insert_item, {"name": "a"}) == 1
        assert writer.run(insert_item, {"name": "b"}) == 1
        assert writer.transaction == first  # the same transaction until the commit
        assert _names(url) == []  # nothing durable before it
        await writer.committed()
        assert _names(url) == ["a", "b"]
        second = writer.transaction
        assert second != first
        await writer.committed()  # nothing ran: no transaction ended
        assert writer.transaction == second
        with pytest.raises(IntegrityError):
            writer.run(insert_item, {"name": "a"})
        await writer.committed()  # a transaction whose only statement failed ends too
        assert writer.transaction != second
    finally:
        writer.close()
        engine.dispose()


async def test_a_failing_statement_fails_alone(url: str) -> None:
    engine = make_sync_engine(url)
    writer = LoopCommit(engine)
    insert_item = Prepared(_insert, engine.dialect)
    try:
        results = await asyncio.gather(
            writer.execute(insert_item, {"name": "a"}),
            writer.execute(insert_item, {"name": "a"}),
            writer.execute(insert_item, {"name": "b"}),
            return_exceptions=True,
        )
        assert results[0] == 1 and results[2] == 1
        assert isinstance(results[1], IntegrityError)
        # A burst whose only statement fails still ends its transaction: the write lock is
        # free for another connection that will not wait for it.
        with pytest.raises(IntegrityError):
            await writer.execute(insert_item, {"name": "b"})
        await asyncio.sleep(0)
        with engine.connect() as other:
            other.exec_driver_sql("PRAGMA busy_timeout=0")
            other.execute(_insert, {"name": "c"})
            other.commit()
        assert _names(url) == ["a", "b", "c"]
    finally:
        writer.close()
        engine.dispose()


async def test_a_held_write_lock_fails_at_once_instead_of_blocking_the_loop(url: str) -> None:
    engine = make_sync_engine(url)
    writer = LoopCommit(engine)
    insert_item = Prepared(_insert, engine.dialect)
    other = make_sync_engine(url)
    try:
        with other.connect() as holder:
            holder.execute(text("BEGIN IMMEDIATE"))  # another connection holds the write lock
            started = time.monotonic()
            with pytest.raises(OperationalError):
                await writer.execute(insert_item, {"name": "x"})
            assert time.monotonic() - started < 1  # not the 10 s busy timeout of the others
            holder.execute(text("ROLLBACK"))
        assert await writer.execute(insert_item, {"name": "y"}) == 1
    finally:
        writer.close()
        engine.dispose()
        other.dispose()
    assert _names(url) == ["y"]


async def test_closing_commits_and_refuses_more(url: str) -> None:
    engine = make_sync_engine(url)
    writer = LoopCommit(engine)
    insert_item = Prepared(_insert, engine.dialect)
    try:
        assert await writer.execute(insert_item, {"name": "a"}) == 1
    finally:
        writer.close()
    with pytest.raises(RuntimeError):
        await writer.execute(insert_item, {"name": "b"})
    engine.dispose()
    assert _names(url) == ["a"]


async def test_one_thread_only(url: str) -> None:
    engine = make_sync_engine(url)
    writer = LoopCommit(engine)
    insert_item = Prepared(_insert, engine.dialect)
    errors: list[BaseException] = []

    def elsewhere() -> None:
        try:
            asyncio.run(writer.execute(insert_item, {"name": "other"}))
        except RuntimeError as exc:
            errors.append(exc)

    try:
        assert await writer.execute(insert_item, {"name": "here"}) == 1
        thread = threading.Thread(target=elsewhere)
        thread.start()
        thread.join()
    finally:
        writer.close()
        engine.dispose()
    assert len(errors) == 1
    assert _names(url) == ["here"]


def _rows_in_database_file(path: Path) -> int:
    """Rows the database file itself holds, ignoring its write-ahead log."""
    with sqlite3.connect(f"file:{path}?immutable=1", uri=True) as reader:
        return int(reader.execute("SELECT count(*) FROM loop_commit_items").fetchone()[0])


async def test_the_log_is_checkpointed_off_the_loop(url: str, tmp_path: Path) -> None:
    """The loop's commits never copy the log into the database, however long it grows (SQLite
    would past 1,000 pages); the checkpoint thread does, every CHECKPOINT_EVERY commits."""
    engine = make_sync_engine(url)
    writer = LoopCommit(engine)
    insert_item = Prepared(_insert, engine.dialect)
    path = tmp_path / "loop.sqlite3"
    wide = "x" * 2000  # SQLite does not hold the column to its declared length
    try:
        for commit in range(CHECKPOINT_EVERY - 1):
            # Some 60 pages of log per commit, in rows of distinct names.
            names = [f"{commit}-{row}-{wide}" for row in range(40)]
            await asyncio.gather(*(writer.execute(insert_item, {"name": name}) for name in names))
        assert (path.parent / "loop.sqlite3-wal").stat().st_size > 1000 * 4096
        assert _rows_in_database_file(path) == 0
        await writer.execute(insert_item, {"name": "last"})
        await asyncio.sleep(0)
        checkpoint = writer._checkpoint
        assert checkpoint is not None
        await asyncio.wrap_future(checkpoint)
        assert _rows_in_database_file(path) == (CHECKPOINT_EVERY - 1) * 40 + 1
    finally:
        writer.close()
        engine.dispose()
