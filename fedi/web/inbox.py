"""The inbox: every POST to every inbox is judged by one policy, recorded, answered 202.

The routes only read the body (streamed, and counted: ``Content-Length`` is not trusted) and
describe the request as an :class:`~fedi.federation.acceptance.Incoming`; the application's
policy (:data:`fedi.federation.conditions.INBOX_POLICY` unless ``create_app`` was given another)
decides, and :func:`fedi.federation.inbox_store.record` writes what it accepts. A worker
processes recorded activities later (STYLE.md 6). Every refusal is a 4xx (or a 503 while key
fetches are saturated) with ``{"error": reason}``, and changes nothing in the database.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fedi.federation.acceptance import Incoming, Policy
from fedi.federation.conditions import MAX_BODY
from fedi.federation.inbox_store import record
from fedi.instance import context_of
from fedi.log import log_event
from fedi.web.addressed import addressed_url

__all__ = ["routes"]

_log = logging.getLogger("fedi.inbox")


async def _read_body(request: Request) -> bytes | None:
    """The body, or ``None`` as soon as it is known to be over :data:`MAX_BODY`."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            return None
    return bytes(body)


async def _receive(request: Request, target_uri: str | None) -> Response:
    ctx = context_of(request)
    policy: Policy = request.app.state.inbox_policy
    incoming = Incoming(
        ctx=ctx,
        method=request.method,
        url=addressed_url(request.scope, ctx.settings.base_url),
        headers=request.headers,
        body=await _read_body(request),
        target_uri=target_uri,
    )
    verdict = await policy.evaluate(incoming) or await record(incoming)
    if verdict is None:
        return Response(status_code=202)
    log_event(
        _log,
        "inbox refused" if verdict.status >= 400 else "inbox answered",
        logging.INFO,
        status=verdict.status,
        reason=verdict.reason,
        condition=verdict.condition,
        path=request.url.path,
    )
    if verdict.status < 400:
        return Response(status_code=verdict.status)
    return JSONResponse(
        {"error": verdict.reason}, status_code=verdict.status, headers=dict(verdict.headers)
    )


async def shared_inbox(request: Request) -> Response:
    """``POST /inbox``: the shared inbox of every local actor."""
    return await _receive(request, None)


async def user_inbox(request: Request) -> Response:
    """``POST /users/{name}/inbox``: a person's inbox (404 if there is no such person)."""
    base = context_of(request).settings.base_url
    return await _receive(request, f"{base}/users/{request.path_params['name']}")


async def group_inbox(request: Request) -> Response:
    """``POST /groups/{name}/inbox``: a group's inbox (404 if there is no such group)."""
    base = context_of(request).settings.base_url
    return await _receive(request, f"{base}/groups/{request.path_params['name']}")


async def instance_inbox(request: Request) -> Response:
    """``POST /actor/inbox``: the instance actor's inbox (FEP-2677)."""
    return await _receive(request, f"{context_of(request).settings.base_url}/actor")


routes = [
    Route("/inbox", shared_inbox, methods=["POST"]),
    Route("/users/{name}/inbox", user_inbox, methods=["POST"]),
    Route("/groups/{name}/inbox", group_inbox, methods=["POST"]),
    Route("/actor/inbox", instance_inbox, methods=["POST"]),
]
