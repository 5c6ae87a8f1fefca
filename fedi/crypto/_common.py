"""Helpers shared by the draft-cavage and RFC 9421 modules (private to ``fedi.crypto``)."""

from __future__ import annotations

import binascii
import email.utils
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Literal, TypeAlias, cast
from urllib.parse import SplitResult, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from fedi.crypto.keys import PrivateKey, PublicKey
from fedi.crypto.result import KeyResolver, Rejected, ResolvedKey, Verified

RawAlgorithm: TypeAlias = Literal["rsa-sha256", "ed25519"]

_DEFAULT_PORTS = {"http": 80, "https": 443}
# Stateless parameter objects, made once rather than on every signature.
_PKCS1V15 = padding.PKCS1v15()
_SHA256 = hashes.SHA256()


def as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive datetime is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def http_date(moment: datetime) -> str:
    """IMF-fixdate (RFC 9110 5.6.7), e.g. ``Sun, 05 Jan 2014 21:31:40 GMT``."""
    return email.utils.format_datetime(as_utc(moment), usegmt=True)


_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
_IMF_FIXDATE = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), ([0-9]{2}) ([A-Z][a-z]{2}) ([0-9]{4}) "
    r"([0-9]{2}):([0-9]{2}):([0-9]{2}) GMT"
)


@lru_cache(maxsize=256)
def parse_http_date(value: str) -> datetime | None:
    """Parse an HTTP/RFC 2822 date with an explicit zone; ``None`` if it cannot be read.

    Cached: a date has a resolution of a second, and a busy peer signs many requests in one."""
    fixed = _IMF_FIXDATE.fullmatch(value)
    month = _MONTHS.get(fixed[2]) if fixed is not None else None
    if fixed is not None and month is not None:
        # IMF-fixdate, what every server sends (RFC 9110 5.6.7): read without the email module.
        day, _, year, hour, minute, second = fixed.groups()
        try:
            return datetime(
                int(year), month, int(day), int(hour), int(minute), int(second), tzinfo=UTC
            )
        except ValueError:
            return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed.tzinfo is None:  # "-0000" means "zone unknown" in RFC 2822
        return None
    return parsed.astimezone(UTC)


def strict_b64decode(text: str) -> bytes:
    """``base64.b64decode(text, validate=True)`` in one step: standard alphabet, padding where
    due and nowhere else; raises ``binascii.Error`` or ``ValueError`` (not ASCII) otherwise."""
    return binascii.a2b_base64(text, strict_mode=True)


class _Normalised(dict[str, str]):
    """Headers already through :func:`normalise_headers`."""


def normalise_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Lower-case names, trimmed values; repeated fields joined with ``", "`` (RFC 9110 5.3).

    Headers it returned come back as they are (verification normalises once, not per step)."""
    if isinstance(headers, _Normalised):
        return headers
    result = _Normalised(
        {name.strip().lower(): value.strip(" \t") for name, value in headers.items()}
    )
    if len(result) == len(headers):
        return result
    return _join_fields(headers.items())  # names that differ only in case or blanks


def normalise_raw_headers(raw: Sequence[tuple[bytes, bytes]]) -> dict[str, str]:
    """:func:`normalise_headers` straight from an ASGI scope's ``headers`` (byte pairs, read as
    Latin-1 as HTTP/1.1 carries them), without building a mapping first."""
    result = _Normalised()
    for name, value in raw:
        result[name.decode("latin-1").strip().lower()] = value.decode("latin-1").strip(" \t")
    if len(result) == len(raw):
        return result
    # A name repeated (perhaps in another case): its values joined in order.
    return _join_fields((name.decode("latin-1"), value.decode("latin-1")) for name, value in raw)


def _join_fields(fields: Iterable[tuple[str, str]]) -> _Normalised:
    """Normalised one field at a time, the values of a repeated name joined in order."""
    result = _Normalised()
    for name, value in fields:
        key = name.strip().lower()
        text = value.strip(" \t")
        result[key] = f"{result[key]}, {text}" if key in result else text
    return result


@lru_cache(maxsize=1024)
def split_url(url: str) -> SplitResult | None:
    """``urlsplit`` that returns ``None`` instead of raising on a malformed URL.

    Cached: an instance verifies requests to the same few URLs (its inboxes) over and over."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return None
    return parts


def request_target(parts: SplitResult) -> str:
    """Path and query as sent on the request line: ``/foo?a=b`` (``/`` when the path is empty)."""
    path = parts.path or "/"
    return f"{path}?{parts.query}" if parts.query else path


def url_authority(parts: SplitResult) -> str:
    """``host[:port]`` of a URL, lower case, default port omitted, no userinfo."""
    host = (parts.hostname or "").rstrip(".")
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    if port is not None and port != _DEFAULT_PORTS.get(parts.scheme.lower()):
        return f"{host}:{port}"
    return host


@lru_cache(maxsize=256)
def normalise_authority(value: str, scheme: str) -> str | None:
    """Normalise a ``Host``-style ``host[:port]`` for comparison; ``None`` if malformed.

    Cached: a server sees the same few values (its own names) on every request."""
    parts = split_url(f"{scheme}://{value.strip()}/")
    if parts is None or not parts.hostname or "@" in parts.netloc:
        return None
    return url_authority(parts)


def check_window(
    moment: datetime, now: datetime, max_skew: timedelta, future_reason: str
) -> Rejected | None:
    """Reject a timestamp more than ``max_skew`` away from ``now``.

    Fedify applies its time window both ways the same way; a timestamp too far ahead gets
    ``future_reason`` so that "created in the future" (SECURITY.md rule 9) is reported as such.
    """
    if moment > now + max_skew:
        return Rejected(future_reason)
    if moment < now - max_skew:
        return Rejected("outside time window")
    return None


def raw_sign(private_key: PrivateKey, message: bytes) -> bytes:
    """RSASSA-PKCS1-v1_5 with SHA-256 for RSA keys; pure Ed25519 for Ed25519 keys."""
    if isinstance(private_key, rsa.RSAPrivateKey):
        return private_key.sign(message, _PKCS1V15, _SHA256)
    return private_key.sign(message)


def key_algorithm(public_key: PublicKey) -> RawAlgorithm:
    """The only algorithm we verify with this kind of key."""
    return "rsa-sha256" if _kind_of(public_key) == "rsa-sha256" else "ed25519"


# The algorithm of each key class met so far (``None``: neither kind). ``isinstance`` against
# the library's abstract key classes costs as much as the rest of a verification's checks.
_KINDS: dict[type, RawAlgorithm | None] = {}


def _kind_of(public_key: object) -> RawAlgorithm | None:
    kind = type(public_key)
    if kind not in _KINDS:
        _KINDS[kind] = (
            "rsa-sha256"
            if isinstance(public_key, rsa.RSAPublicKey)
            else "ed25519"
            if isinstance(public_key, ed25519.Ed25519PublicKey)
            else None
        )
    return _KINDS[kind]


def raw_verify(
    public_key: PublicKey, algorithm: RawAlgorithm, signature: bytes, data: bytes
) -> bool:
    """True when ``signature`` over ``data`` verifies; a key of the wrong type never verifies."""
    kind = _kind_of(public_key)
    try:
        if algorithm == "rsa-sha256" and kind == "rsa-sha256":
            cast(rsa.RSAPublicKey, public_key).verify(signature, data, _PKCS1V15, _SHA256)
            return True
        if algorithm == "ed25519" and kind == "ed25519":
            cast(ed25519.Ed25519PublicKey, public_key).verify(signature, data)
            return True
    except InvalidSignature:
        return False
    return False


async def verify_with_rotation(
    key_id: str,
    resolve_key: KeyResolver,
    attempt: Callable[[PublicKey], str | None],
    scheme: Literal["draft-cavage", "rfc9421"],
) -> Verified | Rejected:
    """Resolve ``key_id`` and run ``attempt`` (which returns the algorithm used, or ``None``).

    On an unknown key or a failed attempt, ask the resolver once more with ``refresh=True``: the
    peer may have rotated its key since we cached it (SECURITY.md, "Key rotation").
    """
    seen_key = False
    for refresh in (False, True):
        resolved: ResolvedKey | None = await resolve_key(key_id, refresh)
        if resolved is None:
            continue
        seen_key = True
        algorithm = attempt(resolved.public_key)
        if algorithm is not None:
            return Verified(resolved.key_id, resolved.owner, scheme, algorithm)
    return Rejected("signature does not verify" if seen_key else "unknown key", key_id)
