"""Group commit: each caller hears its own rowcount after the commit; a failing statement's
caller gets the error, and only that statement is lost."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import (
    JSON,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    exists,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from fedi.db.engine import make_sync_engine
from fedi.db.group_commit import GroupCommit
from fedi.db.prepared import Prepared

_metadata = MetaData()
_items = Table(
    "group_commit_items",
    _metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(32), unique=True),
)


_insert = insert(_items).execution_options(preserve_rowcount=True)


def _names(url: str) -> list[str]:
    engine = make_sync_engine(url)
    try:
        with engine.connect() as connection:
            return sorted(connection.scalars(select(_items.c.name)))
    finally:
        engine.dispose()


async def test_batch_answers_each_caller_after_commit(database_url: str) -> None:
    engine = make_sync_engine(database_url)
    _metadata.create_all(engine)
    writer = GroupCommit(engine)
    try:
        counts = await asyncio.gather(
            *(writer.execute(_insert, {"name": f"n{i}"}) for i in range(20)),
            writer.execute(update(_items).where(_items.c.name == "absent"), {"name": "x"}),
        )
    finally:
        writer.close()
        engine.dispose()
    assert counts == [1] * 20 + [0]
    assert _names(database_url) == sorted(f"n{i}" for i in range(20))


async def test_failing_statement_is_reported_and_rolled_back(database_url: str) -> None:
    engine = make_sync_engine(database_url)
    _metadata.create_all(engine)
    writer = GroupCommit(engine)
    try:
        assert await writer.execute(_insert, {"name": "a"}) == 1
        with pytest.raises(IntegrityError):
            await writer.execute(_insert, {"name": "a"})
        assert await writer.execute(_insert, {"name": "b"}) == 1  # the writer goes on
    finally:
        writer.close()
        engine.dispose()
    assert _names(database_url) == ["a", "b"]
    with pytest.raises(RuntimeError):
        await writer.execute(_insert, {"name": "c"})


async def test_one_bad_statement_does_not_fail_the_others_of_its_batch(
    database_url: str,
) -> None:
    engine = make_sync_engine(database_url)
    _metadata.create_all(engine)
    writer = GroupCommit(engine)
    try:
        assert await writer.execute(_insert, {"name": "taken"}) == 1
        results = await asyncio.gather(
            *(writer.execute(_insert, {"name": f"ok{i}"}) for i in range(5)),
            writer.execute(_insert, {"name": "taken"}),
            *(writer.execute(_insert, {"name": f"ok{i}"}) for i in range(5, 10)),
            return_exceptions=True,
        )
    finally:
        writer.close()
        engine.dispose()
    assert [type(r).__name__ for r in results].count("IntegrityError") == 1
    assert isinstance(results[5], IntegrityError)
    assert _names(database_url) == sorted(["taken", *(f"ok{i}" for i in range(10))])


_insert_where = insert(_items).from_select(
    ["name"],
    select(bindparam("name", type_=String)).where(
        ~exists().where(_items.c.name == bindparam("name")), literal(1) == literal(1)
    ),
)


async def test_prepared_statements_run_on_the_driver(database_url: str) -> None:
    engine = make_sync_engine(database_url)
    _metadata.create_all(engine)
    writer = GroupCommit(engine)
    prepared = Prepared(_insert_where, engine.dialect)
    plain = Prepared(insert(_items).values(name=bindparam("name")), engine.dialect)
    try:
        assert await writer.execute(prepared, {"name": "a"}) == 1
        assert await writer.execute(prepared, {"name": "a"}) == 0  # the WHERE kept it out
        with pytest.raises(IntegrityError):  # the driver's error, as SQLAlchemy's
            await writer.execute(plain, {"name": "a"})
        with pytest.raises(KeyError):
            await writer.execute(plain, {})
    finally:
        writer.close()
        engine.dispose()
    assert _names(database_url) == ["a"]


_documents = Table(
    "group_commit_documents",
    _metadata,
    Column("id", Integer, primary_key=True),
    Column("document", JSON),
)


async def test_prepared_json_given_as_text_is_stored_as_json(database_url: str) -> None:
    engine = make_sync_engine(database_url)
    _metadata.create_all(engine)
    writer = GroupCommit(engine)
    statement = insert(_documents).values(document=bindparam("document"))
    verbatim = Prepared(statement, engine.dialect, verbatim={"document": str})
    processed = Prepared(statement, engine.dialect)
    text_form = '{"type": "Note", "content": "z\\u00e9ro", "n": [1, 2]}'
    try:
        assert await writer.execute(verbatim, {"document": text_form}) == 1
        assert await writer.execute(verbatim, {"document": {"type": "Note", "n": 3}}) == 1
        assert await writer.execute(processed, {"document": text_form}) == 1
    finally:
        writer.close()
    try:
        with engine.connect() as connection:
            stored = list(connection.scalars(select(_documents.c.document).order_by("id")))
    finally:
        engine.dispose()
    # Text is taken as JSON, a dict is serialised; without ``verbatim`` text is a JSON string.
    assert stored == [
        {"type": "Note", "content": "zéro", "n": [1, 2]},
        {"type": "Note", "n": 3},
        text_form,
    ]
