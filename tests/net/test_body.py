"""Parsing JSON bodies: orjson for speed, the standard library for what orjson refuses, so that
what is accepted does not depend on which one parsed it."""

from __future__ import annotations

import json
import logging

import pytest

from fedi.log import JsonFormatter
from fedi.net import BadDocument
from fedi.net.body import parse_json_object


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"type": "Note", "n": 1}', {"type": "Note", "n": 1}),
        # orjson refuses these; the standard library reads them as it always did
        (b'{"n": 123456789012345678901234567890}', {"n": 123456789012345678901234567890}),
        ('{"content": "zéro"}'.encode("utf-16"), {"content": "zéro"}),
        (b'{"s": "\\ud800"}', {"s": "\ud800"}),
        # a long run of digits in a string is no number: read the same either way
        (
            b'{"id": "https://a.test/statuses/1234567890123456789012"}',
            {"id": "https://a.test/statuses/1234567890123456789012"},
        ),
    ],
)
def test_accepted_as_the_standard_library_accepts(body: bytes, expected: object) -> None:
    assert parse_json_object(body, max_depth=64) == expected


def test_nan_is_read_as_the_standard_library_reads_it() -> None:
    value = parse_json_object(b'{"x": NaN}', max_depth=64)["x"]
    assert value != value  # NaN


@pytest.mark.parametrize(
    "body",
    [b"", b"[]", b'"text"', b"{", b'{"a": 1,}', b"\xff\xfe\x00", b"[" * 5000 + b"]" * 5000],
)
def test_refused(body: bytes) -> None:
    with pytest.raises(BadDocument):
        parse_json_object(body, max_depth=64)


def test_a_log_line_with_what_orjson_cannot_encode_is_still_json() -> None:
    record = logging.LogRecord("fedi.job", logging.INFO, "", 0, "job", (), None)
    record.fields = {"big": 2**80, "text": "zéro"}
    line = json.loads(JsonFormatter().format(record))
    assert line["big"] == 2**80
    assert line["text"] == "zéro"
    assert line["message"] == "job"
