"""ASGI middleware: a request id for every request and one structured log line when it ends;
the client's address from trusted proxies alone; security headers on every response."""

from __future__ import annotations

import ipaddress
import logging
import random
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any, cast

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from fedi.log import log_event, request_id_var
from fedi.net.urls import IPNetwork

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "RequestLogMiddleware",
    "SecurityHeadersMiddleware",
    "from_trusted_proxy",
    "log_request",
    "proxy_headers",
    "request_id_of",
]

_logger = logging.getLogger("fedi.request")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# Request ids correlate log lines; they are not secrets, so the fast generator will do.
_ids = random.Random()  # noqa: S311


def from_trusted_proxy(scope: Scope, trusted_proxies: Sequence[IPNetwork]) -> bool:
    """Whether the request came straight from one of ``trusted_proxies`` (the peer of the
    connection, before any ``X-Forwarded-For`` is applied)."""
    client = scope.get("client")
    if not trusted_proxies or not client:
        return False
    try:
        address = ipaddress.ip_address(client[0])
    except ValueError:
        return False
    return any(address in network for network in trusted_proxies)


def request_id_of(
    scope: Scope,
    headers: Mapping[str, str] | None = None,
    *,
    trusted_proxies: Sequence[IPNetwork] = (),
) -> str:
    """The request's id: a well-formed ``X-Request-Id`` from one of ``trusted_proxies``
    (``FEDI_TRUSTED_PROXIES``), else a new one; anyone else could fill our logs and job records
    with ids of their choosing. It is kept in the scope's state, where handlers (and a second
    call) find it. ``headers``, when given, are the scope's headers normalised
    (``fedi.crypto.normalise_raw_headers``)."""
    state = scope.setdefault("state", {})
    if "request_id" in state:
        return str(state["request_id"])
    if not from_trusted_proxy(scope, trusted_proxies):
        request_id = ""
    elif headers is not None:
        request_id = headers.get("x-request-id", "")
    else:
        incoming = b""
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                incoming = value
                break
        request_id = incoming.decode("latin-1")
    if not (request_id and _SAFE_ID.match(request_id)):
        request_id = f"{_ids.getrandbits(64):016x}"
    state["request_id"] = request_id
    return request_id


def log_request(scope: Scope, instance: str, request_id: str, status: int, started: float) -> None:
    """The one log line of a request (see :class:`RequestLogMiddleware`)."""
    log_event(
        _logger,
        "request",
        request_id=request_id,
        instance=instance,
        method=scope["method"],
        path=scope["path"],
        status=status,
        duration_ms=round((time.perf_counter() - started) * 1000, 2),
    )


class RequestLogMiddleware:
    """Adds ``X-Request-Id`` (kept from a trusted proxy when well-formed) and logs each request.

    The logged line has the method, the path without its query string (it may hold tokens), the
    status, the duration and the instance's domain, so that several instances in one process can be
    told apart. It must run before :func:`proxy_headers` replaces the connection's peer.
    """

    def __init__(
        self, app: ASGIApp, *, instance: str, trusted_proxies: Sequence[IPNetwork] = ()
    ) -> None:
        self.app = app
        self.instance = instance
        self.trusted_proxies = tuple(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope, trusted_proxies=self.trusted_proxies)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        token = request_id_var.set(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)
            log_request(scope, self.instance, request_id, status, started)


def proxy_headers(app: ASGIApp, *, trusted_proxies: Sequence[IPNetwork]) -> ASGIApp:
    """The client's address (and scheme) from ``X-Forwarded-For`` (``-Proto``) when the peer
    is one of ``trusted_proxies``, by uvicorn's own middleware; from anyone else the headers
    change nothing. The application applies it itself (``fedi serve`` turns uvicorn's off), so
    that it behaves the same under any server."""
    # uvicorn types ASGI apps more narrowly than Starlette does; both are the same protocol.
    guarded = ProxyHeadersMiddleware(
        cast(Any, app), trusted_hosts=[str(n) for n in trusted_proxies]
    )
    return cast(ASGIApp, guarded)


# Pages load nothing but their own scripts, styles and images (and data: images), are never
# framed, and post forms only to this instance. No inline script: the policy has no
# 'unsafe-inline', so an injected <script> or on* attribute does not run.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
_NOSNIFF = (b"x-content-type-options", b"nosniff")
_PAGE_HEADERS = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
)


class SecurityHeadersMiddleware:
    """``X-Content-Type-Options: nosniff`` on every response; on every ``text/html`` one also
    ``Content-Security-Policy`` (:data:`CONTENT_SECURITY_POLICY`) and ``Referrer-Policy``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", ()), _NOSNIFF]
                if any(
                    name.lower() == b"content-type" and value.lower().startswith(b"text/html")
                    for name, value in headers
                ):
                    headers.extend(_PAGE_HEADERS)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
