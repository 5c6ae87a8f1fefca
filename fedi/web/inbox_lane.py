"""The inbox's fast lane: the common case answered before the rest of the application.

Nearly every POST to an inbox is a well-formed activity from a peer whose key we hold, and it
passes every check. For those, this ASGI middleware reads the body, applies the inbox's own first
checks (content type, size, JSON, shape; rules 24-25) and :func:`fedi.web.inbox_fast.try_record`,
and answers 202 itself, with the request id and the log line every request gets. It stands in
front of the whole Starlette application (:class:`LaneApp`), so Starlette's own entry, its error
middleware, the router, the request and response objects and the other middleware are skipped:
for a request this small they cost about as much as the work itself. An error in the lane is
answered 500 here, as Starlette's error middleware would answer it, and raised to the server,
which logs it.

It never refuses anything. Whenever a request is not plainly fine (another path or method, a
body over the cap, an unusual content type, anything :func:`try_record` leaves) it hands the
request, with the body it read, to the application, whose full path in :mod:`fedi.web.inbox`
decides the answer and logs it.
"""

from __future__ import annotations

import re
import time
from typing import Any

from starlette.applications import Starlette
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fedi.crypto import normalise_raw_headers
from fedi.federation.shapes import ShapeError, read_activity
from fedi.instance import InstanceContext
from fedi.log import request_id_var
from fedi.net.body import parse_json_object
from fedi.net.errors import BadDocument
from fedi.web.inbox import MAX_BODY, MAX_DEPTH, content_type_problem
from fedi.web.inbox_fast import try_record
from fedi.web.middleware import log_request, request_id_of

__all__ = ["InboxFastLane", "LaneApp"]

# The inbox routes of fedi.web.inbox and the local actor each one belongs to.
_PERSONAL = re.compile(r"/(users|groups)/([^/]+)/inbox")
_ACCEPTED = [(b"content-length", b"0")]
_FAILED = b"Internal Server Error"


class InboxFastLane:
    """ASGI middleware; see the module. ``context`` is the instance's."""

    def __init__(self, app: ASGIApp, *, context: InstanceContext) -> None:
        self.app = app
        self.context = context

    def _target(self, path: str) -> tuple[bool, str | None]:
        """Whether ``path`` is an inbox, and the URI of its owner (``None``: the shared one)."""
        base = self.context.settings.base_url
        if path == "/inbox":
            return True, None
        if path == "/actor/inbox":
            return True, f"{base}/actor"
        match = _PERSONAL.fullmatch(path)
        if match is None:
            return False, None
        return True, f"{base}/{match[1]}/{match[2]}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        is_inbox, target_uri = self._target(scope["path"])
        if not is_inbox:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        body, complete = await _read(receive)
        try:
            recorded = (
                complete and len(body) <= MAX_BODY and await self._record(scope, body, target_uri)
            )
        except Exception:
            # Nothing answered yet: answered 500 and logged here; the server logs the error.
            request_id = request_id_of(scope, trusted_proxies=self.context.settings.trusted_proxies)
            try:
                await _send_failure(send, request_id)
            finally:
                log_request(scope, self.context.settings.domain, request_id, 500, started)
            raise
        if recorded:
            request_id = scope["state"]["request_id"]
            status = 500
            try:
                await send(
                    {
                        "type": "http.response.start",
                        "status": 202,
                        "headers": [*_ACCEPTED, (b"x-request-id", request_id.encode())],
                    }
                )
                await send({"type": "http.response.body", "body": b""})
                status = 202
            finally:
                log_request(scope, self.context.settings.domain, request_id, status, started)
            return
        await self.app(scope, _replay(body, complete, receive), send)

    async def _record(self, scope: Scope, body: bytes, target_uri: str | None) -> bool:
        """Whether the activity was recorded and committed (the answer is then 202); when
        ``False`` nothing was written and the full path must run."""
        headers = normalise_raw_headers(scope["headers"])
        if content_type_problem(headers.get("content-type")) is not None:
            return False
        try:
            document = parse_json_object(body, max_depth=MAX_DEPTH)
            shape = read_activity(document)
        except (BadDocument, ShapeError):
            return False
        request_id = request_id_of(
            scope, headers, trusted_proxies=self.context.settings.trusted_proxies
        )
        token = request_id_var.set(request_id)
        try:
            return await try_record(self.context, scope, headers, body, document, shape, target_uri)
        finally:
            request_id_var.reset(token)


class LaneApp(Starlette):
    """A Starlette application with the inbox's fast lane in front of it (see the module);
    ``lane_context`` is the instance's."""

    def __init__(self, *, lane_context: InstanceContext, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._lane = InboxFastLane(super().__call__, context=lane_context)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._lane(scope, receive, send)


async def _send_failure(send: Send, request_id: str) -> None:
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(_FAILED)).encode()),
        (b"x-request-id", request_id.encode()),
    ]
    await send({"type": "http.response.start", "status": 500, "headers": headers})
    await send({"type": "http.response.body", "body": _FAILED})


async def _read(receive: Receive) -> tuple[bytes, bool]:
    """The body, up to one chunk past :data:`MAX_BODY`; and whether it is complete."""
    message = await receive()
    if message["type"] == "http.request" and not message.get("more_body", False):
        return message.get("body", b""), True  # the usual case: the body in one message
    body = bytearray()
    while True:
        if message["type"] != "http.request":
            return bytes(body), False  # a disconnect: the application sees it next
        body += message.get("body", b"")
        if not message.get("more_body", False):
            return bytes(body), True
        if len(body) > MAX_BODY:
            return bytes(body), False
        message = await receive()


def _replay(body: bytes, complete: bool, receive: Receive) -> Receive:
    """A ``receive`` that gives the body read so far, then whatever is left."""
    given = False

    async def replayed() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": not complete}
        return await receive()

    return replayed
