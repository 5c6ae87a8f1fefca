"""Body digests: ``Digest`` (RFC 3230, draft-cavage) and ``Content-Digest`` (RFC 9530, RFC 9421).

Only SHA-256 is accepted. A header whose only members use other algorithms (``MD5=``, ``SHA=``,
``sha-512=``) is refused, as is a SHA-256 value that does not decode to exactly 32 bytes
(SECURITY.md rule 6). When several SHA-256 members are present, all must match.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

import http_sf

from fedi.crypto._common import strict_b64decode
from fedi.errors import FediError

__all__ = [
    "DigestError",
    "check_content_digest",
    "check_digest",
    "make_content_digest",
    "make_digest",
]


class DigestError(FediError):
    """A digest header is malformed, uses no supported algorithm, or does not match the body.

    ``str(exc)`` is a short reason ("digest mismatch", "unsupported digest algorithm", ...).
    """


def make_digest(body: bytes) -> str:
    """Return the RFC 3230 ``Digest`` value for ``body``: ``SHA-256=<base64>``."""
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def make_content_digest(body: bytes) -> str:
    """Return the RFC 9530 ``Content-Digest`` value for ``body``: ``sha-256=:<base64>:``."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii") + ":"


def check_digest(value: str, body: bytes) -> None:
    """Check an RFC 3230 ``Digest`` header against ``body``; raise :class:`DigestError` if it fails.

    The value is a comma-separated list of ``algorithm=base64`` (algorithm case-insensitive).
    """
    found: list[bytes] = []
    for member in value.split(","):
        algorithm, sep, encoded = member.strip().partition("=")
        if not sep or not algorithm:
            raise DigestError("malformed Digest")
        if algorithm.strip().lower() != "sha-256":
            continue
        try:
            found.append(strict_b64decode(encoded.strip()))
        except (binascii.Error, ValueError) as exc:
            raise DigestError("malformed Digest") from exc
    _compare(found, body)


def check_content_digest(value: str, body: bytes) -> None:
    """Check an RFC 9530 ``Content-Digest`` header against ``body``; raise :class:`DigestError`."""
    try:
        parsed = http_sf.parse(value.encode("ascii"), tltype="dictionary")
    except Exception as exc:  # third-party parser: any failure is malformed input, never a 500
        raise DigestError("malformed Content-Digest") from exc
    if not isinstance(parsed, dict):
        raise DigestError("malformed Content-Digest")
    found: list[bytes] = []
    for algorithm, member in parsed.items():
        if algorithm != "sha-256":
            continue
        digest = member[0] if isinstance(member, tuple) else member
        if not isinstance(digest, bytes):
            raise DigestError("malformed Content-Digest")
        found.append(digest)
    _compare(found, body)


def _compare(found: list[bytes], body: bytes) -> None:
    if not found:
        raise DigestError("unsupported digest algorithm")
    expected = hashlib.sha256(body).digest()
    for digest in found:
        if len(digest) != 32:
            raise DigestError("digest is not 32 bytes of SHA-256")
        if not hmac.compare_digest(digest, expected):
            raise DigestError("digest mismatch")
