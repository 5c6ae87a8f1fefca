"""Digest (RFC 3230) and Content-Digest (RFC 9530) building and checking."""

from __future__ import annotations

import base64
import binascii
import random
from collections.abc import Callable

import pytest

from fedi.crypto import (
    DigestError,
    check_content_digest,
    check_digest,
    make_content_digest,
    make_digest,
)
from fedi.crypto._common import strict_b64decode

BODY = b'{"hello": "world"}'
# draft-cavage-12 Appendix C and RFC 9530 section 2 both use this body.
SHA256_B64 = "X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE="


def test_make_digest_matches_published_value() -> None:
    assert make_digest(BODY) == f"SHA-256={SHA256_B64}"
    assert make_content_digest(BODY) == f"sha-256=:{SHA256_B64}:"


@pytest.mark.parametrize(
    "value",
    [
        f"SHA-256={SHA256_B64}",
        f"sha-256={SHA256_B64}",
        f"MD5=nhB9nTcrtoJr2B01QqQZ1g==, SHA-256={SHA256_B64}",
        f" SHA-256 = {SHA256_B64} ",
    ],
)
def test_check_digest_accepts(value: str) -> None:
    check_digest(value, BODY)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("MD5=nhB9nTcrtoJr2B01QqQZ1g==", "unsupported digest algorithm"),
        ("SHA=AAAA", "unsupported digest algorithm"),
        ("SHA-256=nhB9nTcrtoJr2B01QqQZ1g==", "digest is not 32 bytes of SHA-256"),
        ("SHA-256=not base64!", "malformed Digest"),
        ("garbage", "malformed Digest"),
        ("", "malformed Digest"),
        (f"SHA-256={SHA256_B64}, SHA-256=" + "A" * 43 + "=", "digest mismatch"),
    ],
)
def test_check_digest_refuses(value: str, reason: str) -> None:
    with pytest.raises(DigestError) as info:
        check_digest(value, BODY)
    assert str(info.value) == reason


def test_check_digest_refuses_one_changed_byte() -> None:
    with pytest.raises(DigestError, match="digest mismatch"):
        check_digest(make_digest(BODY), BODY.replace(b"world", b"worle"))


@pytest.mark.parametrize(
    "value",
    [
        f"sha-256=:{SHA256_B64}:",
        f"sha-512=:{'A' * 86}==:, sha-256=:{SHA256_B64}:",
    ],
)
def test_check_content_digest_accepts(value: str) -> None:
    check_content_digest(value, BODY)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("md5=:nhB9nTcrtoJr2B01QqQZ1g==:", "unsupported digest algorithm"),
        ("sha-256=:nhB9nTcrtoJr2B01QqQZ1g==:", "digest is not 32 bytes of SHA-256"),
        (f"sha-256={SHA256_B64}", "malformed Content-Digest"),
        (f'sha-256="{SHA256_B64}"', "malformed Content-Digest"),
        ("SHA-256=:AAAA:", "malformed Content-Digest"),
        ("é", "malformed Content-Digest"),
        (make_content_digest(b"other"), "digest mismatch"),
    ],
)
def test_check_content_digest_refuses(value: str, reason: str) -> None:
    with pytest.raises(DigestError) as info:
        check_content_digest(value, BODY)
    assert str(info.value) == reason


def test_strict_b64decode_is_b64decode_with_validation() -> None:
    """Signatures and digests are decoded in one step, with the standard library's answer."""

    def outcome(decode: Callable[[str], bytes], text: str) -> bytes | None:
        try:
            return decode(text)
        except (binascii.Error, ValueError):
            return None

    rng = random.Random(23)
    alphabet = "ABab01+/=\n é-_"
    samples = ["", "=", "==", "YQ==", "YQ=", "YQ", "YR==", "Y Q==", "YQ==YQ==", "=YQ==", "é"]
    samples += [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 9))) for _ in range(20000)
    ]
    for text in samples:
        expected = outcome(lambda value: base64.b64decode(value, validate=True), text)
        assert outcome(strict_b64decode, text) == expected, text
    assert sum(outcome(strict_b64decode, text) is not None for text in samples) > 1000
