"""Prepared and Bound statements: the driver gets what SQLAlchemy would send it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    insert,
    select,
)

from fedi.db.engine import make_sync_engine
from fedi.db.models.base import UTCDateTime
from fedi.db.prepared import Prepared

_metadata = MetaData()
_rows = Table(
    "prepared_rows",
    _metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(32)),
    Column("kind", String(16)),
    Column("at", UTCDateTime()),
    Column("plain_at", DateTime()),
    Column("document", JSON),
)
_statement = insert(_rows).values(
    name=bindparam("name"),
    kind="fixed",  # a literal the statement binds itself
    at=bindparam("at"),
    plain_at=bindparam("plain_at"),
    document=bindparam("document"),
)
_VALUES = {
    "name": "a",
    "at": datetime(2026, 11, 27, 10, 30, tzinfo=UTC),
    "plain_at": datetime(2026, 11, 27, 11, 0),
    "document": {"type": "Note", "n": [1, 2]},
}


def _comparable(parameters: object) -> object:
    """Driver parameters with psycopg's JSON wrappers (equal only to themselves) unwrapped."""

    def unwrap(value: object) -> object:
        return ("json", value.obj) if type(value).__name__ in ("Json", "Jsonb") else value  # type: ignore[attr-defined]

    if isinstance(parameters, dict):
        return {name: unwrap(value) for name, value in parameters.items()}
    assert isinstance(parameters, tuple)
    return tuple(unwrap(value) for value in parameters)


def test_bound_parameters_equal_the_prepared_ones(database_url: str) -> None:
    engine = make_sync_engine(database_url)
    try:
        prepared = Prepared(_statement, engine.dialect)
        expected = _comparable(prepared.parameters(_VALUES))
        for fixed in (["name"], ["at", "document"], list(_VALUES), []):
            bound = prepared.bind({name: _VALUES[name] for name in fixed})
            rest = {name: value for name, value in _VALUES.items() if name not in fixed}
            assert _comparable(bound.parameters(rest)) == expected, fixed
            # A bound value stays bound; a value missing from both is an error.
            overridden = bound.parameters({**rest, **dict.fromkeys(fixed, "other")})
            assert _comparable(overridden) == expected
            if rest:
                with pytest.raises(KeyError):
                    bound.parameters({})
        # The conversions ran: the driver never gets the document as a dict.
        sent = expected.values() if isinstance(expected, dict) else expected
        assert _VALUES["document"] not in sent
    finally:
        engine.dispose()


def test_bound_statement_writes_the_row(database_url: str) -> None:
    engine = make_sync_engine(database_url)
    _metadata.create_all(engine)
    try:
        bound = Prepared(_statement, engine.dialect).bind({"at": _VALUES["at"], "name": "b"})
        with engine.begin() as connection:
            assert bound.execute(connection, _VALUES) == 1
            row = connection.execute(select(_rows)).one()
    finally:
        _metadata.drop_all(engine)
        engine.dispose()
    assert row.name == "b"
    assert row.kind == "fixed"
    assert row.at == _VALUES["at"]
    assert row.plain_at == _VALUES["plain_at"]
    assert row.document == _VALUES["document"]


def test_bound_statement_runs_many_rows_in_one_call(database_url: str) -> None:
    engine = make_sync_engine(database_url)
    _metadata.create_all(engine)
    try:
        bound = Prepared(_statement, engine.dialect).bind({"at": _VALUES["at"]})
        rows = [{**_VALUES, "name": f"n{number}"} for number in range(5)]
        with engine.begin() as connection:
            assert bound.execute_many(connection, rows) == 5
            names = sorted(connection.scalars(select(_rows.c.name)))
            documents = list(connection.scalars(select(_rows.c.document)))
    finally:
        _metadata.drop_all(engine)
        engine.dispose()
    assert names == [f"n{number}" for number in range(5)]
    assert documents == [_VALUES["document"]] * 5
