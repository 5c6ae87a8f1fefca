"""Redirects point at ``FEDI_BASE_URL``, never at the request's ``Host`` header, which anyone
can set: a cache or a link in front of us would otherwise send people (or signed POSTs) to a
host of the sender's choosing."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

from starlette.responses import RedirectResponse
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["SlashRedirect", "local_url"]


def local_url(base_url: str, path: str, query: bytes = b"") -> str:
    """``path`` (decoded, as in the scope) with ``query`` on this instance's base URL."""
    url = base_url + quote(path)
    return f"{url}?{query.decode('latin-1')}" if query else url


class SlashRedirect:
    """The router's fallback for a path no route takes: when the path with its trailing slash
    removed (or one added) matches a route, a redirect there; otherwise ``fallback`` (the
    router's 404). It replaces Starlette's own ``redirect_slashes``, which builds the target
    from the request's ``Host``."""

    def __init__(self, routes: Sequence[BaseRoute], base_url: str, fallback: ASGIApp) -> None:
        self.routes = routes
        self.base_url = base_url
        self.fallback = fallback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        if scope["type"] == "http" and path != "/":
            other = path.rstrip("/") if path.endswith("/") else path + "/"
            probe = {**scope, "path": other}
            if other and any(route.matches(probe)[0] is not Match.NONE for route in self.routes):
                target = local_url(self.base_url, other, scope.get("query_string", b""))
                await RedirectResponse(target)(scope, receive, send)
                return
        await self.fallback(scope, receive, send)
