"""Incoming HTTP-signature verification for both schemes in use on the fediverse.

:func:`verify_request` dispatches on the headers: ``Signature-Input`` means RFC 9421, a lone
``Signature`` means draft-cavage. Fedify "double-knocks" (RFC 9421 first, draft-cavage after any
4xx), so every refusal here is a clean :class:`Rejected`, never an exception.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from fedi.crypto._common import normalise_headers
from fedi.crypto.cavage import CavageCheck, check_cavage, sign_cavage, verify_cavage
from fedi.crypto.result import KeyResolver, Rejected, VerifyResult
from fedi.crypto.rfc9421 import sign_rfc9421, verify_rfc9421

__all__ = [
    "MAX_SKEW",
    "CavageCheck",
    "check_cavage",
    "sign_cavage",
    "sign_rfc9421",
    "verify_request",
]

# How far a signature's time may be from ours, either way (SECURITY.md rules 7-9).
MAX_SKEW = timedelta(hours=1)


async def verify_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    resolve_key: KeyResolver,
    now: datetime,
    expected_host: str,
    max_skew: timedelta = MAX_SKEW,
) -> VerifyResult:
    """Check the HTTP signature of an incoming request; never raises on malformed input.

    ``url`` is the absolute URL as the sender addressed it (scheme and public host of this
    server, path and query as received); ``headers`` is any mapping (case-insensitive or not,
    e.g. Starlette or httpx ``Headers``); ``body`` is the raw body (``b""`` for none).
    ``expected_host`` is this server's ``host[:port]``; ``now`` is the current time (a naive
    value is taken as UTC). Timestamps more than ``max_skew`` away from ``now`` are refused.

    ``resolve_key(key_id, refresh)`` is called only once every key-independent check has passed:
    first with ``refresh=False`` and, if the key is unknown or the signature does not verify,
    once more with ``refresh=True``. Exceptions raised by the resolver propagate.

    Returns :class:`Verified` naming the key and its owner, or :class:`Rejected` with a short
    reason (SECURITY.md rules 1-13).
    """
    fields = normalise_headers(headers)
    if "signature-input" in fields:
        return await verify_rfc9421(
            method,
            url,
            fields,
            body,
            resolve_key=resolve_key,
            now=now,
            expected_host=expected_host,
            max_skew=max_skew,
        )
    if "signature" in fields:
        return await verify_cavage(
            method,
            url,
            fields,
            body,
            resolve_key=resolve_key,
            now=now,
            expected_host=expected_host,
            max_skew=max_skew,
        )
    return Rejected("missing signature")
