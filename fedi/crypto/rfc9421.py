"""HTTP Message Signatures (RFC 9421) for requests: sign and verify.

Signing covers ``"@method" "@target-uri"`` plus ``"content-digest"`` (RFC 9530, SHA-256) for a
POST or any body, with the parameters ``created``, ``keyid`` and ``alg``; verification requires at
least that set, as Mastodon 4.5 does. Algorithms: ``rsa-v1_5-sha256`` and ``ed25519``; a signature
without ``alg`` uses the one that fits the key (Mastodon and Fedify do the same).

Why not ``http-message-signatures`` here: its verifier reads the wall clock
(``datetime.now()`` in ``validate_created_and_expires``), takes a synchronous key resolver and one
algorithm fixed in advance, and refuses several labels unless a ``tag`` is expected; we need an
injected clock, an async resolver with a refresh retry, and "any supported label verifies". The
signature base for the few derived components we accept is short, and signing uses the same
builder so that the two directions cannot drift. Structured fields are parsed and serialised with
``http_sf`` (the RFC 8941/9651 implementation that ``http-message-signatures`` itself uses), and
the tests check both directions against ``http-message-signatures`` and RFC 9421 Appendix B.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from urllib.parse import SplitResult

import http_sf
from http_sf.types import BareItemType, InnerListType, ItemType, ParamsType

from fedi.crypto._common import (
    RawAlgorithm,
    as_utc,
    check_window,
    key_algorithm,
    normalise_authority,
    normalise_headers,
    parse_http_date,
    raw_sign,
    raw_verify,
    request_target,
    split_url,
    url_authority,
    verify_with_rotation,
)
from fedi.crypto.digest import DigestError, check_content_digest, make_content_digest
from fedi.crypto.keys import PrivateKey, PublicKey
from fedi.crypto.result import KeyResolver, Rejected, Verified, VerifyResult

__all__ = ["sign_rfc9421", "signature_base", "verify_rfc9421"]

# RFC 9421 algorithm name -> the primitive behind it.
_ALGORITHMS: dict[str, RawAlgorithm] = {"rsa-v1_5-sha256": "rsa-sha256", "ed25519": "ed25519"}
# Labels looked at per request: each may cost a key look-up (SECURITY.md rule 32).
_MAX_LABELS = 5


class _Unusable(Exception):
    """Internal: a Signature-Input member that cannot be checked; ``str(exc)`` is the reason."""


def sign_rfc9421(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    key_id: str,
    private_key: PrivateKey,
    now: datetime,
    *,
    label: str = "sig1",
) -> dict[str, str]:
    """Sign a request; return the headers to add: ``Signature-Input``, ``Signature`` and, for a
    POST or a non-empty body, ``Content-Digest``.

    ``url`` must be the absolute URL as the receiver will see it (it is ``@target-uri``). An RSA
    key signs as ``rsa-v1_5-sha256``, an Ed25519 key as ``ed25519``.
    """
    parts = split_url(url)
    if parts is None or not parts.hostname:
        raise ValueError("cannot sign a request to a URL without a host")
    added: dict[str, str] = {}
    components = ["@method", "@target-uri"]
    if body or method.upper() == "POST":
        added["Content-Digest"] = make_content_digest(body or b"")
        components.append("content-digest")
    raw = key_algorithm(private_key.public_key())
    params: ParamsType = {
        "created": int(as_utc(now).timestamp()),
        "keyid": key_id,
        "alg": "rsa-v1_5-sha256" if raw == "rsa-sha256" else "ed25519",
    }
    items: list[ItemType] = [(name, {}) for name in components]
    member: InnerListType = (items, params)
    fields = normalise_headers(headers) | normalise_headers(added)
    try:
        base = signature_base(method, url, fields, member)
    except _Unusable as exc:
        raise ValueError(str(exc)) from exc
    signature = raw_sign(private_key, base.encode("ascii"))
    added["Signature-Input"] = http_sf.ser({label: member})
    added["Signature"] = http_sf.ser({label: (signature, {})})
    return added


def signature_base(method: str, url: str, headers: Mapping[str, str], member: InnerListType) -> str:
    """The RFC 9421 section 2.5 signature base for one parsed ``Signature-Input`` member.

    ``headers`` must have lower-case names. Supported components: ``@method``, ``@target-uri``,
    ``@authority``, ``@scheme``, ``@request-target``, ``@path``, ``@query`` and plain header
    fields without parameters. Raises ``_Unusable`` (internal) for anything else.
    """
    parts = split_url(url)
    if parts is None:
        raise _Unusable("malformed request URL")
    if not isinstance(member, tuple) or not isinstance(member[0], list):
        raise _Unusable("malformed Signature-Input")
    items, _ = member
    lines: list[str] = []
    seen: set[str] = set()
    for item in items:
        name, item_params = item if isinstance(item, tuple) else (item, {})
        if not isinstance(name, str) or name in seen or name != name.lower():
            raise _Unusable("malformed Signature-Input")
        if item_params:
            raise _Unusable("unsupported component parameter")
        seen.add(name)
        value = _component(name, method, url, parts, headers)
        if not value.isascii() or "\n" in value or "\r" in value:
            raise _Unusable("malformed covered value")
        lines.append(f'"{name}": {value}')
    serialised = http_sf.ser({"x": member})[2:]
    lines.append(f'"@signature-params": {serialised}')
    return "\n".join(lines)


def _component(
    name: str, method: str, url: str, parts: SplitResult, headers: Mapping[str, str]
) -> str:
    if name == "@method":
        return method
    if name == "@target-uri":
        return url
    if name == "@authority":
        return url_authority(parts)
    if name == "@scheme":
        return parts.scheme.lower()
    if name == "@request-target":
        return request_target(parts)
    if name == "@path":
        return parts.path or "/"
    if name == "@query":
        return "?" + parts.query
    if name.startswith("@"):
        raise _Unusable(f"unsupported component {name}")
    value = headers.get(name)
    if value is None:
        raise _Unusable(f"covered header {name} is missing")
    return value


async def verify_rfc9421(
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
    """Verify ``Signature-Input``/``Signature`` (see :func:`fedi.crypto.verify_request`).

    Accepts the request if any of the first few labels verifies; otherwise returns the rejection
    of the first label. Checks that need no key run before the resolver is called.
    """
    fields = normalise_headers(headers)
    inputs = _parse_dictionary(fields.get("signature-input", ""))
    if not inputs:
        return Rejected("malformed Signature-Input")
    if "signature" not in fields:
        return Rejected("missing Signature")
    signatures = _parse_dictionary(fields["signature"])
    if not signatures:
        return Rejected("malformed Signature")
    first: Rejected | None = None
    for label in list(inputs)[:_MAX_LABELS]:
        outcome = await _verify_label(
            inputs[label],
            signatures.get(label),
            method,
            url,
            fields,
            body,
            resolve_key=resolve_key,
            now=as_utc(now),
            expected_host=expected_host,
            max_skew=max_skew,
        )
        if isinstance(outcome, Verified):
            return outcome
        first = first or outcome
    return first or Rejected("malformed Signature-Input")


def _parse_dictionary(value: str) -> dict[str, ItemType | InnerListType] | None:
    """An RFC 8941 dictionary, or ``None`` if empty, malformed, or with a repeated key."""

    def refuse_duplicate(key: str, context: str) -> None:
        raise ValueError(f"duplicate {context} key {key}")

    try:
        parsed = http_sf.parse(
            value.encode("ascii"), tltype="dictionary", on_duplicate_key=refuse_duplicate
        )
    except Exception:  # third-party parser: any failure is malformed input, never a 500
        return None
    return parsed if isinstance(parsed, dict) and parsed else None


async def _verify_label(
    member: ItemType | InnerListType,
    signature_member: ItemType | InnerListType | None,
    method: str,
    url: str,
    fields: Mapping[str, str],
    body: bytes,
    *,
    resolve_key: KeyResolver,
    now: datetime,
    expected_host: str,
    max_skew: timedelta,
) -> VerifyResult:
    if not isinstance(member, tuple) or not isinstance(member[0], list):
        return Rejected("malformed Signature-Input")
    items, params = member
    key_id = params.get("keyid")
    if not isinstance(key_id, str) or not key_id:
        return Rejected("Signature-Input lacks keyid")
    signature = signature_member[0] if isinstance(signature_member, tuple) else None
    if not isinstance(signature, bytes):
        return Rejected("Signature lacks this label", key_id)
    alg = params.get("alg")
    if alg is not None and (not isinstance(alg, str) or alg not in _ALGORITHMS):
        return Rejected("unsupported algorithm", key_id)
    names = [item[0] if isinstance(item, tuple) else item for item in items]
    reason = _check_policy(names, params, method, url, fields, body, now, expected_host, max_skew)
    if reason is not None:
        return Rejected(reason, key_id)
    try:
        data = signature_base(method, url, fields, member).encode("ascii")
    except _Unusable as exc:
        return Rejected(str(exc), key_id)

    def attempt(public_key: PublicKey) -> str | None:
        raw = _ALGORITHMS[alg] if isinstance(alg, str) else key_algorithm(public_key)
        used = "rsa-v1_5-sha256" if raw == "rsa-sha256" else "ed25519"
        return used if raw_verify(public_key, raw, signature, data) else None

    return await verify_with_rotation(key_id, resolve_key, attempt, "rfc9421")


def _check_policy(
    names: list[BareItemType],
    params: ParamsType,
    method: str,
    url: str,
    fields: Mapping[str, str],
    body: bytes,
    now: datetime,
    expected_host: str,
    max_skew: timedelta,
) -> str | None:
    """SECURITY.md rules 3-9 and 12 for one label; the reason, or ``None`` when all pass."""
    if "@method" not in names or "@target-uri" not in names:
        return "signature must cover @method and @target-uri"
    if (body or method.upper() == "POST") and "content-digest" not in names:
        return "signature must cover content-digest"
    created = _timestamp(params.get("created"))
    if created is None:
        return "signature must have a valid created"
    rejection = check_window(created, now, max_skew, "created in the future")
    if rejection is not None:
        return rejection.reason
    if "expires" in params:
        expires = _timestamp(params["expires"])
        if expires is None:
            return "malformed expires"
        if expires < now:
            return "signature expired"
    if "date" in names and "date" in fields:
        date = parse_http_date(fields["date"])
        if date is None:
            return "unparseable Date"
        rejection = check_window(date, now, max_skew, "outside time window")
        if rejection is not None:
            return rejection.reason
    parts = split_url(url)
    if parts is None:
        return "malformed request URL"
    ours = normalise_authority(expected_host, parts.scheme or "https")
    if ours is None or ours != url_authority(parts):
        return "signed host is not this server"
    if "host" in names and normalise_authority(fields.get("host", ""), parts.scheme) != ours:
        return "signed host is not this server"
    if "content-digest" in names and "content-digest" in fields:
        try:
            check_content_digest(fields["content-digest"], body)
        except DigestError as exc:
            return str(exc)
    return None


def _timestamp(value: BareItemType | None) -> datetime | None:
    """An RFC 9421 ``created``/``expires`` Integer as a UTC datetime; ``None`` if not one."""
    if type(value) is not int or value < 0:
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None
