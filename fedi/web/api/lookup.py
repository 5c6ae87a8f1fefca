"""``GET /api/v1/lookup?id=...``: any object or actor this instance holds, local or remote.

With ``resolve=true`` a signed-in member may have the instance fetch an object it does not hold
yet (a signed GET through the safe client, stored through the content service) before it
answers. Unknown ids, and ids that could not be fetched, are 404.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from fedi.content.ancestors import fetch_object
from fedi.content.lookup import Found, lookup
from fedi.errors import FediError
from fedi.instance import context_of
from fedi.net.errors import BadUrl, FetchError
from fedi.net.urls import host_of
from fedi.web.access import Access, principal_of, rule
from fedi.web.api.problems import Problem

__all__ = ["routes"]

MAX_ID = 2048


def _time(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds").replace("+00:00", "Z") if value else None


def _render(found: Found) -> dict[str, Any]:
    body = asdict(found)
    body["published"] = _time(found.published)
    body["updated"] = _time(found.updated)
    return body


def _ident(request: Request) -> str:
    """The ``id`` asked for: an http(s) URL of at most 2048 characters (422 otherwise). One we
    could not even store (a host name too long, say) is simply not held: 404 later."""
    ident = request.query_params.get("id", "")
    if not ident:
        raise Problem(422, "id: required", errors={"id": ["required"]})
    if len(ident) > MAX_ID or not ident.startswith(("https://", "http://")):
        message = "must be an http(s) URL of at most 2048 characters"
        raise Problem(422, f"id: {message}", errors={"id": [message]})
    return ident


def _fetchable(ident: str) -> bool:
    try:
        host_of(ident)
    except BadUrl:
        return False
    return True


def _resolve(request: Request) -> bool:
    raw = request.query_params.get("resolve", "false")
    if raw not in ("true", "false"):
        raise Problem(
            422, "resolve must be true or false", errors={"resolve": ["must be true or false"]}
        )
    return raw == "true"


async def lookup_object(request: Request) -> Response:
    context = context_of(request)
    ident = _ident(request)
    resolve = _resolve(request)
    if resolve and principal_of(request) is None:
        raise Problem(401, "sign in to have the instance fetch an object")
    async with context.sessions() as session:
        found = await lookup(session, ident)
    if found is None and resolve and _fetchable(ident):
        # No session is open while the object is fetched.
        try:
            refused = await fetch_object(context, ident)
        except (FetchError, FediError, TimeoutError) as exc:
            raise Problem(404, f"not held here, and fetching it failed: {exc}"[:300]) from None
        if refused is not None:
            raise Problem(404, f"not held here, and not fetched: {refused}")
        async with context.sessions() as session:
            found = await lookup(session, ident)
    if found is None:
        raise Problem(404, "no such object here")
    return JSONResponse(_render(found))


routes = [rule("/api/v1/lookup", lookup_object, Access.PUBLIC, methods=["GET"])]
