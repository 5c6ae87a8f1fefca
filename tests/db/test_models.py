"""Column types shared by the models."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import DateTime, TypeDecorator
from sqlalchemy.dialects import sqlite

from fedi.db.models.base import UTCDateTime


class _General(UTCDateTime):
    """UTCDateTime as SQLAlchemy alone would convert it: the general path, no shortcut."""

    def bind_processor(self, dialect):  # type: ignore[no-untyped-def]
        return TypeDecorator.bind_processor(self, dialect)


def test_sqlite_text_of_a_utc_datetime_is_what_sqlalchemy_writes() -> None:
    dialect = sqlite.dialect()
    fast = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    general = _General().dialect_impl(dialect).bind_processor(dialect)
    assert fast is not None and general is not None
    rng = random.Random(9)
    moments = [
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2026, 11, 27, 10, 30, tzinfo=UTC),  # no microseconds: still written
        datetime(2026, 11, 27, 10, 30, tzinfo=timezone(timedelta(hours=2))),  # converted
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ]
    moments += [
        datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=rng.randrange(2**52))
        for _ in range(2000)
    ]
    for moment in moments:
        assert fast(moment) == general(moment), moment
    assert fast(None) is None
    with pytest.raises(ValueError, match="naive"):
        fast(datetime(2026, 11, 27))
    # The plain DATETIME writes the same text, so the two kinds of column compare in SQL.
    plain = DateTime().dialect_impl(dialect).bind_processor(dialect)
    assert plain is not None
    assert fast(moments[2]) == plain(moments[2].replace(tzinfo=None))
