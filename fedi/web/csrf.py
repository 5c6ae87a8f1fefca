"""Cross-site request forgery protection for every form and for session-authenticated API calls.

One random token per browser lives in the ``fedi_csrf`` cookie (``HttpOnly``, ``SameSite=Lax``,
``Secure`` on https) and is repeated by the page: in a hidden ``csrf_token`` field of every form,
or in an ``X-CSRF-Token`` header from a script. A request must repeat it when a browser could
have been made to send it from another site:

- an unsafe method (POST, PUT, PATCH, DELETE) with a form's content type (URL-encoded,
  multipart or plain text), as any page can submit those; or
- an unsafe method that carries our session cookie,

unless it carries a bearer token.

Requests with a bearer token need none (a browser never sends one on its own), nor do
server-to-server posts in JSON, nor anything posted to the ``exempt`` routes (the inboxes, which
hold no forms, check HTTP signatures and answer a form's content type with 415).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable, Sequence
from http.cookies import SimpleCookie

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CSRF_COOKIE", "CSRF_FIELD", "CSRF_HEADER", "CSRFMiddleware", "cookie_header"]

CSRF_COOKIE = "fedi_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")
# A form post is read whole to find its token: more than this is refused before it is read.
MAX_FORM_BYTES = 256 * 1024


def cookie_header(name: str, value: str, *, secure: bool, max_age: int | None = None) -> str:
    """A ``Set-Cookie`` value for one of our cookies (``HttpOnly``, ``SameSite=Lax``, path /)."""
    cookie: SimpleCookie = SimpleCookie()
    cookie[name] = value
    morsel = cookie[name]
    morsel["path"] = "/"
    morsel["httponly"] = True
    morsel["samesite"] = "Lax"
    if secure:
        morsel["secure"] = True
    if max_age is not None:
        morsel["max-age"] = max_age
    return morsel.OutputString()


Refusal = Callable[[Request, str], Awaitable[Response]]


class CSRFMiddleware:
    """Refuses forgeable requests that do not repeat the browser's token (see the module)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        session_cookie: str,
        secure: bool,
        refuse: Refusal,
        exempt: Sequence[BaseRoute] = (),
    ) -> None:
        self.app = app
        self.session_cookie = session_cookie
        self.secure = secure
        self.refuse = refuse
        self.exempt = tuple(exempt)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or any(
            route.matches(scope)[0] is Match.FULL for route in self.exempt
        ):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        known = request.cookies.get(CSRF_COOKIE, "")
        token = known if len(known) >= 32 else secrets.token_urlsafe(32)
        scope.setdefault("state", {})["csrf_token"] = token
        if known != token:
            send = self._setting_cookie(send, token)
        if scope["method"] in UNSAFE_METHODS and self._forgeable(request):
            given, receive = await self._given_token(request, receive)
            if given is None or not known or not hmac.compare_digest(given, known):
                response = await self.refuse(request, "the form token is missing or out of date")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _forgeable(self, request: Request) -> bool:
        # A browser never adds a bearer token to a request of its own accord (it may add cached
        # Basic credentials, which name nobody here).
        if request.headers.get("authorization", "").lower().startswith("bearer "):
            return False
        content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        return content_type in FORM_TYPES or self.session_cookie in request.cookies

    def _setting_cookie(self, send: Send, token: str) -> Send:
        """Give the browser its token with the first page it gets (only pages hold forms, so
        answers to servers and scripts carry no cookie)."""
        header = cookie_header(CSRF_COOKIE, token, secure=self.secure)

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if headers.get("content-type", "").startswith("text/html"):
                    headers.append("set-cookie", header)
            await send(message)

        return sending

    async def _given_token(self, request: Request, receive: Receive) -> tuple[str | None, Receive]:
        """The token the request repeats (header, else form field) and a ``receive`` that
        replays the body for the endpoint."""
        header = request.headers.get(CSRF_HEADER)
        if header is not None:
            return header, receive
        content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
            return None, receive
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > MAX_FORM_BYTES:
            return None, receive
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_FORM_BYTES:
                return None, receive
            chunks.append(chunk)
        body = b"".join(chunks)
        form = await Request(request.scope, _replaying(body, receive)).form()
        value = form.get(CSRF_FIELD)
        await form.close()
        return (value if isinstance(value, str) else None), _replaying(body, receive)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives ``body`` once, then whatever ``receive`` gives (a disconnect)."""
    given = False

    async def replay() -> Message:
        nonlocal given
        if given:
            return await receive()
        given = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay
