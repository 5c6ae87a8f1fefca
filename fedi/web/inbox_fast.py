"""The inbox's fast path: a cached signer, a verified signature, one conditional INSERT.

Most activities come from actors whose key we hold. For those, :func:`try_record` verifies the
signature in the event loop against the cached key and records the activity with one statement
that re-checks every database condition (:mod:`fedi.federation.inbox_store`), committed before
the caller answers 202. It never refuses anything itself: whenever a check fails, or the case
needs more than this (an unknown key, ``Update``/``Delete`` ownership, a replay, a peer whose
circuit must be reset), it returns ``False`` having written nothing, and the full path in
:mod:`fedi.web.inbox` runs from the start and gives the answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from starlette.types import Scope

from fedi.crypto import (
    MAX_SKEW,
    Rejected,
    ResolvedKey,
    Verified,
    check_cavage,
    verify_request,
)
from fedi.federation.inbox_store import NewActivity, Signer
from fedi.federation.shapes import ActivityShape
from fedi.instance import InstanceContext
from fedi.log import request_id_var
from fedi.net.errors import BadUrl
from fedi.net.urls import host_of

__all__ = ["request_url", "try_record"]

# Activities whose acceptance needs checks against other rows (rule 20): always the full path.
_FULL_PATH_TYPES = frozenset({"Update", "Delete"})


def request_url(scope: Scope, base_url: str) -> str:
    """The URL as the sender addressed it: our public base, then path and query as received."""
    raw = scope.get("raw_path")
    path = raw.decode("latin-1") if isinstance(raw, bytes) and raw else scope["path"]
    query = scope.get("query_string", b"").decode("latin-1")
    return f"{base_url}{path}?{query}" if query else f"{base_url}{path}"


def _on_host(url: str, domain: str) -> bool:
    """Whether ``url`` is on ``domain`` (``host[:port]``, normalised), as ``host_of`` decides.

    The usual case, an https URL that spells the domain exactly, is a prefix comparison (what
    follows the authority is then a path, so the authority is exactly ``domain``); the rest go
    through ``host_of``. ``url`` must have passed ``host_of`` already (``read_activity``)."""
    prefixed = url.startswith("https://") and url.startswith(domain, 8)
    if prefixed and url.startswith("/", 8 + len(domain)):
        return True
    return host_of(url) == domain


def _hosts_ok(shape: ActivityShape, signer: Signer) -> bool:
    """Rules 17 and 18 as the full path applies them."""
    try:
        if not _on_host(shape.id, signer.domain):
            return False
        if shape.type == "Create" and shape.object_id is not None:
            return _on_host(shape.object_id, signer.domain)
    except BadUrl:
        return False
    return True


def _utf8_text(body: bytes) -> str | None:
    """The body as text when it is UTF-8 without a byte-order mark (JSON may be UTF-16 too)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return None if text.startswith("\ufeff") else text


async def try_record(
    ctx: InstanceContext,
    scope: Scope,
    headers: Mapping[str, str],
    body: bytes,
    document: dict[str, Any],
    shape: ActivityShape,
    target_uri: str | None,
) -> bool:
    """True when the activity was recorded and committed; False when the full path must run."""
    if shape.type in _FULL_PATH_TYPES:
        return False
    now = ctx.clock()
    signer = await _verified_signer(ctx, scope, headers, body, now)
    if signer is None or signer.actor_uri != shape.actor:  # rule 14
        return False
    if not _hosts_ok(shape, signer):  # rules 17, 18
        return False
    activity = NewActivity(
        uri=shape.id,
        type=shape.type,
        object_uri=shape.object_id,
        public=shape.public,
        document=document,
        created_at=now,
        request_id=request_id_var.get(),
        text=_utf8_text(body),
    )
    if await ctx.inbox_store.record(signer, activity, target_uri):
        return True
    ctx.inbox_store.forget(signer.key_id)
    return False


async def _verified_signer(
    ctx: InstanceContext,
    scope: Scope,
    headers: Mapping[str, str],
    body: bytes,
    now: datetime,
) -> Signer | None:
    """The cached signer whose key the request's signature verified with; ``None`` for anything
    else (no signature, a bad one, a key not cached): the full path then decides."""
    store = ctx.inbox_store
    url = request_url(scope, ctx.settings.base_url)
    if "signature" in headers and "signature-input" not in headers:
        # draft-cavage, what nearly every server sends: the checks that need no key, then the
        # cached key, without the resolver's round trips.
        check = check_cavage(
            scope["method"],
            url,
            headers,
            body,
            now=now,
            expected_host=ctx.settings.domain,
            max_skew=MAX_SKEW,
        )
        if isinstance(check, Rejected):
            return None
        signer = store.cached_signer(check.key_id) or await store.signer(check.key_id)
        if signer is None:
            return None
        if check.verify(signer.public_key) is None:
            store.forget(signer.key_id)  # perhaps a rotated key: reload it next time
            return None
        return signer
    # Every cached signer looked up, by key id: an RFC 9421 request may carry several labels,
    # and only the one whose key verified names the signer.
    looked_up: dict[str, Signer] = {}

    async def resolve(key_id: str, refresh: bool) -> ResolvedKey | None:
        signer = None if refresh else await store.signer(key_id)
        if signer is None:
            return None  # unknown here, or a retry after a failure: the full path decides
        looked_up[key_id] = signer
        return ResolvedKey(key_id=key_id, owner=signer.actor_uri, public_key=signer.public_key)

    result = await verify_request(
        scope["method"],
        url,
        headers,
        body,
        resolve_key=resolve,
        now=now,
        expected_host=ctx.settings.domain,
    )
    if not isinstance(result, Verified):
        for key_id in looked_up:
            store.forget(key_id)  # perhaps a rotated key: reload it next time
        return None
    signer = looked_up.get(result.key_id)
    if signer is None or signer.actor_uri != result.owner:
        return None
    return signer
