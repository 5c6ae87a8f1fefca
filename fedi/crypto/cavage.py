"""HTTP signatures as in draft-cavage-http-signatures-12, the scheme Mastodon speaks.

Signing follows what Mastodon sends and requires: ``algorithm="rsa-sha256"`` and signed headers
``(request-target) host date``, plus ``digest`` when there is a body or the method is POST.
Verification accepts ``rsa-sha256`` and the ``hs2019`` label, which (as in Mastodon and Fedify)
means RSASSA-PKCS1-v1_5/SHA-256 for an RSA key and Ed25519 for an Ed25519 key, never the
RSASSA-PSS the draft describes. It requires ``(request-target)``, ``host``, ``date`` or
``(created)``, and ``digest`` for a POST or any body: the set Mastodon requires.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import SplitResult

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from fedi.crypto._common import (
    RawAlgorithm,
    as_utc,
    check_window,
    http_date,
    key_algorithm,
    normalise_authority,
    normalise_headers,
    parse_http_date,
    raw_sign,
    raw_verify,
    request_target,
    split_url,
    strict_b64decode,
    url_authority,
    verify_with_rotation,
)
from fedi.crypto.digest import DigestError, check_digest, make_digest
from fedi.crypto.keys import PrivateKey, PublicKey
from fedi.crypto.result import KeyResolver, Rejected, VerifyResult

__all__ = [
    "CavageCheck",
    "CavagePlan",
    "check_cavage",
    "parse_signature_header",
    "plan_cavage",
    "sign_cavage",
    "signing_string",
    "verify_cavage",
]

_PARAM = re.compile(r'\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"([^"]*)"|([^",\s]*))\s*(,|$)')
# Every parameter quoted, separated by single commas, nothing else: the shape servers send.
_CANONICAL = re.compile(r'(?:[A-Za-z][A-Za-z0-9_-]*="[^"]*"(?:,(?=[A-Za-z])|$))+')
_CANONICAL_PAIR = re.compile(r'([A-Za-z][A-Za-z0-9_-]*)="([^"]*)"')
_SUPPORTED = frozenset({"rsa-sha256", "hs2019"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f\"]")


@dataclass(frozen=True)
class CavagePlan:
    """A draft-cavage signature before its one costly step: ``text`` is what the key signs,
    ``headers`` what to add besides ``Signature`` (``Date``, maybe ``Host`` and ``Digest``)."""

    headers: dict[str, str]
    text: bytes
    params: str  # keyId, algorithm and headers, ready to be followed by the signature

    def finish(self, signature: bytes) -> dict[str, str]:
        """The headers to add, ``Signature`` included, given the raw signature of ``text``."""
        encoded = base64.b64encode(signature).decode("ascii")
        return self.headers | {"Signature": f'{self.params},signature="{encoded}"'}


def plan_cavage(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    key_id: str,
    private_key: PrivateKey,
    now: datetime,
) -> CavagePlan:
    """Everything :func:`sign_cavage` does but the signing itself, which the caller may run
    elsewhere (the RSA operation releases the interpreter lock) and hand to
    :meth:`CavagePlan.finish`. Raises ``ValueError`` as :func:`sign_cavage` does."""
    if _CONTROL.search(key_id):
        raise ValueError("key id must not contain quotes or control characters")
    parts = split_url(url)
    if parts is None or not parts.hostname:
        raise ValueError("cannot sign a request to a URL without a host")
    existing = normalise_headers(headers)
    added: dict[str, str] = {"Date": http_date(now)}
    if "host" not in existing:
        added["Host"] = url_authority(parts)
    names = ["(request-target)", "host", "date"]
    if body or method.upper() == "POST":
        added["Digest"] = make_digest(body or b"")
        names.append("digest")
    merged = existing | normalise_headers(added)
    text = signing_string(method, parts, merged, names, {})
    if text is None:  # unreachable: every name above is present in ``merged``
        raise ValueError("cannot build the signing string")
    algorithm = "rsa-sha256" if isinstance(private_key, RSAPrivateKey) else "hs2019"
    params = f'keyId="{key_id}",algorithm="{algorithm}",headers="{" ".join(names)}"'
    return CavagePlan(added, text.encode("utf-8"), params)


def sign_cavage(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    key_id: str,
    private_key: PrivateKey,
    now: datetime,
) -> dict[str, str]:
    """Sign a request; return the headers to add: ``Date``, ``Signature``, and when needed
    ``Digest`` (POST or a non-empty body) and ``Host`` (when ``headers`` has none).

    ``headers`` are the request's existing headers; an existing ``Host`` is signed as is, otherwise
    it is derived from ``url`` with the port when it is not the scheme's default. An RSA key signs
    as ``rsa-sha256``; an Ed25519 key as ``hs2019`` (peers that only know RSA will refuse it).
    """
    plan = plan_cavage(method, url, headers, body, key_id, private_key, now)
    return plan.finish(raw_sign(private_key, plan.text))


def parse_signature_header(value: str) -> dict[str, str] | None:
    """Parse ``keyId="..",algorithm="..",...`` into a dict; ``None`` if malformed or repeated."""
    if _CANONICAL.fullmatch(value):
        # Quoted values, no spaces: what servers send, read with one search.
        pairs = _CANONICAL_PAIR.findall(value)
        params = dict(pairs)
        return params if len(params) == len(pairs) else None
    params = {}
    position = 0
    while position < len(value):
        match = _PARAM.match(value, position)
        if match is None:
            return None
        name, quoted, bare, separator = match.groups()
        if name in params:
            return None
        params[name] = quoted if quoted is not None else bare
        position = match.end()
        if not separator:
            break
    return params if position >= len(value) and params else None


class _SignedNames(NamedTuple):
    """What a ``headers`` parameter's list of names decides, whatever the request: worked out
    once per list (:func:`_signed_names`), since a peer signs the same list every time."""

    names: tuple[str, ...]
    prefixes: tuple[str, ...]  # "name: " for each line of the signing string
    pseudo: tuple[tuple[int, str], ...]  # where a (pseudo-header) goes, and which
    unknown_pseudo: bool  # a (pseudo-header) other than those the draft defines for us
    uncovered: str | None  # why the list does not cover enough (rules 3 and 4), if it does not
    digest: bool  # "digest" is signed
    date: bool  # "date" is signed
    created: bool  # "(created)" is signed
    expires: bool  # "(expires)" is signed


_PSEUDO = frozenset({"(request-target)", "(created)", "(expires)"})


@lru_cache(maxsize=64)
def _signed_names(names: tuple[str, ...]) -> _SignedNames:
    pseudo = tuple((index, name) for index, name in enumerate(names) if name[:1] == "(")
    if "(request-target)" not in names:
        uncovered: str | None = "signature must cover (request-target)"
    elif "date" not in names and "(created)" not in names:
        uncovered = "signature must cover date or (created)"
    elif "host" not in names:
        uncovered = "signature must cover host"
    else:
        uncovered = None
    return _SignedNames(
        names=names,
        prefixes=tuple(f"{name}: " for name in names),
        pseudo=pseudo,
        unknown_pseudo=any(name not in _PSEUDO for _, name in pseudo),
        uncovered=uncovered,
        digest="digest" in names,
        date="date" in names,
        created="(created)" in names,
        expires="(expires)" in names,
    )


def signing_string(
    method: str,
    url: str | SplitResult,
    headers: Mapping[str, str],
    names: Sequence[str],
    params: Mapping[str, str],
) -> str | None:
    """The draft-cavage signing string for ``names``; ``None`` if a named header is absent.

    ``headers`` must have lower-case names (see ``normalise_headers``); ``params`` supplies
    ``created``/``expires`` for the ``(created)``/``(expires)`` pseudo-headers.
    """
    parts = split_url(url) if isinstance(url, str) else url
    if parts is None:
        return None
    return _signing_text(method, parts, headers, _signed_names(tuple(names)), params)


def _signing_text(
    method: str,
    parts: SplitResult,
    headers: Mapping[str, str],
    signed: _SignedNames,
    params: Mapping[str, str],
) -> str | None:
    if signed.unknown_pseudo:
        return None
    values: list[str | None] = list(map(headers.get, signed.names))
    for index, name in signed.pseudo:
        if name == "(request-target)":
            values[index] = f"{method.lower()} {request_target(parts)}"
        else:
            values[index] = params.get(name[1:-1])
    if None in values:
        return None
    text = "\n".join(map(str.__add__, signed.prefixes, values))  # type: ignore[arg-type]
    # A value with a line break in it would forge a line of its own.
    if text.count("\n") != len(values) - 1 or "\r" in text:
        return None
    return text


class CavageCheck(NamedTuple):
    """A draft-cavage signature whose every key-independent check passed: what is left is to
    verify ``signature`` over ``data`` with the key ``key_id`` names."""

    key_id: str
    algorithm: str  # as the header names it, in lower case
    signature: bytes
    data: bytes

    def verify(self, public_key: PublicKey) -> RawAlgorithm | None:
        """The algorithm the signature verified with under ``public_key``; ``None`` if not."""
        used: RawAlgorithm = (
            "rsa-sha256" if self.algorithm == "rsa-sha256" else key_algorithm(public_key)
        )
        return used if raw_verify(public_key, used, self.signature, self.data) else None


def check_cavage(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: datetime,
    expected_host: str,
    max_skew: timedelta,
) -> CavageCheck | Rejected:
    """Every check of a draft-cavage ``Signature`` header that needs no key (SECURITY.md rules
    1-13 but the key's), in the order :func:`verify_cavage` applies them."""
    fields = normalise_headers(headers)
    params = parse_signature_header(fields.get("signature", ""))
    if params is None:
        return Rejected("malformed Signature header")
    key_id = params.get("keyId")
    encoded = params.get("signature")
    if not key_id or not encoded:
        return Rejected("Signature lacks keyId or signature", key_id or None)
    algorithm = params.get("algorithm", "hs2019").lower()
    if algorithm not in _SUPPORTED:
        return Rejected("unsupported algorithm", key_id)
    try:
        signature = strict_b64decode(encoded)
    except (binascii.Error, ValueError):
        return Rejected("malformed signature value", key_id)

    signed = _signed_names(tuple(params.get("headers", "date").lower().split()))
    rejection = _check_covered(method, body, signed)
    if rejection is not None:
        return Rejected(rejection, key_id)
    parts = split_url(url)
    if parts is None:
        return Rejected("malformed request URL", key_id)
    text = _signing_text(method, parts, fields, signed, params)
    if text is None:
        return Rejected("a signed header is missing", key_id)
    rejection = _check_times(fields, signed, params, as_utc(now), max_skew)
    rejection = rejection or _check_host(fields["host"], expected_host, parts.scheme or "https")
    if rejection is not None:
        return Rejected(rejection, key_id)
    if signed.digest:
        try:
            check_digest(fields["digest"], body)
        except DigestError as exc:
            return Rejected(str(exc), key_id)
    return CavageCheck(key_id, algorithm, signature, text.encode("utf-8"))


async def verify_cavage(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    resolve_key: KeyResolver,
    now: datetime,
    expected_host: str,
    max_skew: timedelta,
) -> VerifyResult:
    """Verify a draft-cavage ``Signature`` header (see :func:`fedi.crypto.verify_request`).

    Every check that needs no key runs before the resolver is called (:func:`check_cavage`), so
    a bad request never causes a key fetch.
    """
    check = check_cavage(
        method, url, headers, body, now=now, expected_host=expected_host, max_skew=max_skew
    )
    if isinstance(check, Rejected):
        return check
    return await verify_with_rotation(check.key_id, resolve_key, check.verify, "draft-cavage")


def _check_covered(method: str, body: bytes, signed: _SignedNames) -> str | None:
    """SECURITY.md rules 3 and 4, plus a signed ``host`` as Mastodon requires."""
    if signed.uncovered is not None:
        return signed.uncovered
    if not signed.digest and (body or method.upper() == "POST"):
        return "signature must cover digest"
    return None


def _check_times(
    fields: Mapping[str, str],
    signed: _SignedNames,
    params: Mapping[str, str],
    now: datetime,
    max_skew: timedelta,
) -> str | None:
    """SECURITY.md rules 7-9 for ``Date``, ``(created)`` and ``(expires)``."""
    if signed.date:
        date = parse_http_date(fields["date"])
        if date is None:
            return "unparseable Date"
        rejection = check_window(date, now, max_skew, "outside time window")
        if rejection is not None:
            return rejection.reason
    if signed.created or "created" in params:
        created = _parse_timestamp(params.get("created"))
        if created is None:
            return "malformed created"
        rejection = check_window(created, now, max_skew, "created in the future")
        if rejection is not None:
            return rejection.reason
    if signed.expires or "expires" in params:
        expires = _parse_timestamp(params.get("expires"))
        if expires is None:
            return "malformed expires"
        if expires < now:
            return "signature expired"
    return None


def _check_host(host: str, expected_host: str, scheme: str) -> str | None:
    """SECURITY.md rule 12: the signed ``Host`` must name this server."""
    ours = normalise_authority(expected_host, scheme)
    theirs = normalise_authority(host, scheme)
    if ours is None or theirs is None or ours != theirs:
        return "signed host is not this server"
    return None


def _parse_timestamp(value: str | None) -> datetime | None:
    """A ``created``/``expires`` parameter: decimal Unix seconds; ``None`` if malformed."""
    if value is None or not value.isascii() or not value.isdigit() or len(value) > 12:
        return None
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (OverflowError, OSError, ValueError):  # beyond year 9999: malformed, not a 500
        return None
