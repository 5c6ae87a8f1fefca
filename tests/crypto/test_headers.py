"""Header normalisation for verification, from a mapping or from an ASGI scope's byte pairs."""

from __future__ import annotations

import random

import pytest
from starlette.datastructures import Headers

from fedi.crypto import normalise_raw_headers
from fedi.crypto._common import normalise_headers

_CASES = [
    [],
    [(b"host", b"example.com"), (b"date", b"Sun, 05 Jan 2014 21:31:40 GMT")],
    [(b"accept", b"a"), (b"accept", b" b\t"), (b"host", b"x")],  # repeated: joined in order
    [(b"Content-Type", b" application/activity+json "), (b"x-empty", b"")],
    [(b"x-latin", "caf\u00e9".encode("latin-1")), (b"x-tab", b"\tv\t")],
]


@pytest.mark.parametrize("raw", _CASES)
def test_raw_headers_normalise_as_the_mapping_does(raw: list[tuple[bytes, bytes]]) -> None:
    assert normalise_raw_headers(raw) == normalise_headers(Headers(raw=raw))


def test_raw_headers_on_generated_lists() -> None:
    rng = random.Random(3)
    names = [b"host", b"date", b"Digest", b"signature", b"accept", b"x-a"]
    values = [b"", b" v ", b"\tw", b"a, b", b"caf\xe9"]
    for _ in range(2000):
        raw = [(rng.choice(names), rng.choice(values)) for _ in range(rng.randint(0, 6))]
        assert normalise_raw_headers(raw) == normalise_headers(Headers(raw=raw)), raw
    # Normalised once, never again: verification takes the result as it is.
    once = normalise_raw_headers([(b"host", b"x")])
    assert normalise_headers(once) is once
