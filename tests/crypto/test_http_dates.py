"""HTTP dates: the IMF-fixdate fast path reads what the email module reads."""

from __future__ import annotations

import email.utils
import random
from datetime import UTC, datetime, timedelta

import pytest

from fedi.crypto._common import http_date, parse_http_date


def by_email_module(value: str) -> datetime | None:
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return None if parsed.tzinfo is None else parsed.astimezone(UTC)


@pytest.mark.parametrize(
    "value",
    [
        "Wed, 01 May 2024 12:00:00 GMT",
        "Thu, 01 May 2024 12:00:00 GMT",  # the wrong weekday is ignored by both
        "Sat, 29 Feb 2020 23:59:59 GMT",
        "Sun, 29 Feb 2021 00:00:00 GMT",  # no such day
        "Mon, 31 Apr 2024 00:00:00 GMT",
        "Mon, 01 Foo 2024 00:00:00 GMT",
        "Mon, 01 Jan 2024 24:00:00 GMT",
        "Mon, 01 Jan 2024 23:59:60 GMT",
        "Mon, 1 Jan 2024 10:00:00 GMT",  # not fixdate: the email module reads it
        "Mon, 01 Jan 2024 10:00:00 +0200",
        "Mon, 01 Jan 2024 10:00:00 -0000",  # zone unknown
        "Monday, 01-Jan-24 10:00:00 GMT",
        "01 Jan 2024 10:00:00 GMT",
        "",
        "not a date",
    ],
)
def test_same_as_the_email_module(value: str) -> None:
    assert parse_http_date(value) == by_email_module(value)


def test_round_trips_generated_dates() -> None:
    rng = random.Random(3)
    start = datetime(1990, 1, 1, tzinfo=UTC)
    for _ in range(2000):
        moment = start + timedelta(seconds=rng.randrange(60 * 365 * 24 * 3600))
        assert parse_http_date(http_date(moment)) == moment
