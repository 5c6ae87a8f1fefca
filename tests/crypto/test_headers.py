"""Header normalisation for verification, from a mapping or from an ASGI scope's byte pairs."""

from __future__ import annotations

import random
import re

import pytest
from starlette.datastructures import Headers

from fedi.crypto import cavage, normalise_raw_headers
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
    names = [b"host", b"date", b"Digest", b"signature", b"accept", b"x-a", b" sp", b"\x85nel"]
    names += [b"a\nb", b"\xa0nb", b"\x0bvt"]
    values = [b"", b" v ", b"\tw", b"a, b", b"caf\xe9", b"x\ny", b"\x0b"]
    for _ in range(2000):
        raw = [(rng.choice(names), rng.choice(values)) for _ in range(rng.randint(0, 6))]
        assert normalise_raw_headers(raw) == normalise_headers(Headers(raw=raw)), raw
    # Normalised once, never again: verification takes the result as it is.
    once = normalise_raw_headers([(b"host", b"x")])
    assert normalise_headers(once) is once


def test_signature_header_shortcut_reads_as_the_general_parser(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = random.Random(17)
    names = ["keyId", "algorithm", "headers", "signature", "created", "x-y", "keyId", "9bad"]
    values = ['"k"', '"a b"', '""', '"x=="', "bare", '"q,r"', '"un', "1402170695"]
    seps = [",", ",", ", ", " ,", ",,", ""]
    samples = ['keyId="a",algorithm="rsa-sha256",headers="(request-target) host",signature="x=="']
    for _ in range(4000):
        parts = [f"{rng.choice(names)}={rng.choice(values)}" for _ in range(rng.randint(1, 5))]
        text = "".join(part + rng.choice(seps) for part in parts)
        samples.append(text[: rng.randint(len(text) - 2, len(text))] + rng.choice(["", "\n"]))
        quoted = [f"{rng.choice(names)}={rng.choice(values[:4])}" for _ in range(rng.randint(1, 5))]
        samples.append(",".join(quoted))  # the shape servers send, repeats and all
    fast = [cavage.parse_signature_header(sample) for sample in samples]
    monkeypatch.setattr(cavage, "_CANONICAL", re.compile(r"(?!)"))  # never: the general path
    general = [cavage.parse_signature_header(sample) for sample in samples]
    assert fast == general
    monkeypatch.undo()
    taken = [sample for sample in samples if cavage._CANONICAL.fullmatch(sample)]
    assert len(taken) > 300  # the shortcut was taken often enough to be tested
    assert any(general[samples.index(sample)] is None for sample in taken)  # repeats


def test_signing_string_refuses_values_with_line_breaks() -> None:
    names = ["(request-target)", "host", "date", "(created)"]
    headers = {"host": "example.com", "date": "Sun, 05 Jan 2014 21:31:40 GMT"}
    params = {"created": "1402170695"}
    url = "https://example.com/inbox?a=b"
    assert cavage.signing_string("POST", url, headers, names, params) == (
        "(request-target): post /inbox?a=b\nhost: example.com\n"
        "date: Sun, 05 Jan 2014 21:31:40 GMT\n(created): 1402170695"
    )
    for bad in ("example.com\nx: y", "example.com\r", "\n"):
        assert cavage.signing_string("POST", url, {**headers, "host": bad}, names, params) is None
    assert cavage.signing_string("POST", url, headers, [*names, "digest"], params) is None
    assert cavage.signing_string("POST", url, headers, ["(unknown)"], params) is None
    assert cavage.signing_string("POST", url, headers, ["(expires)"], params) is None


def _joined(items: list[tuple[str, str]]) -> dict[str, str]:
    """Normalisation as RFC 9110 5.3 has it, one field at a time."""
    result: dict[str, str] = {}
    for name, value in items:
        key, text = name.strip().lower(), value.strip(" \t")
        result[key] = f"{result[key]}, {text}" if key in result else text
    return result


def test_mapping_normalisation_joins_fields_that_differ_in_case() -> None:
    rng = random.Random(31)
    names = ["Host", "host", "HOST ", "Date", "digest", "X-A", "x-a"]
    values = ["", " v ", "\tw", "a, b"]
    for _ in range(2000):
        items = [(rng.choice(names), rng.choice(values)) for _ in range(rng.randint(0, 5))]
        plain = dict(items)  # a later value under the very same name replaces the earlier
        assert normalise_headers(plain) == _joined(list(plain.items())), plain
        raw = [(name.encode(), value.encode()) for name, value in items]
        assert normalise_headers(Headers(raw=raw)) == _joined(items), items
