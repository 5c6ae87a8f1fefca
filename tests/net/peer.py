"""A misbehaving fake peer for the safe client's tests, served for real by uvicorn.

Document ids are built from the ``Host`` the client sent, so the same app answers for any
``*.test`` name the tests' resolver maps to 127.0.0.1.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import AsyncIterator
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

AS2 = "application/activity+json"
LD = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
MIB = 1024 * 1024


class Peer:
    """The app plus a log of the requests it saw (method, path, headers)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, dict[str, str]]] = []
        self.client_ports: list[int] = []  # the same port twice: a reused connection
        self.app = Starlette(routes=[Route("/{path:path}", self.handle, methods=["GET", "POST"])])

    def paths(self) -> list[str]:
        return [path for _method, path, _headers in self.seen]

    async def handle(self, request: Request) -> Response:
        path = request.url.path
        self.seen.append((request.method, path, dict(request.headers)))
        self.client_ports.append(request.client.port if request.client else 0)
        base = f"{request.url.scheme}://{request.headers['host']}"
        name = path.strip("/").split("/")[0]
        handler = getattr(self, "route_" + name.replace("-", "_"), None)
        if handler is None:
            return Response("not found", status_code=404)
        response: Response = await handler(request, base, path)
        return response

    @staticmethod
    def doc(id_: str, **extra: Any) -> dict[str, Any]:
        return {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": id_,
            "type": "Note",
        } | extra

    def json(self, data: Any, media_type: str = AS2, **kwargs: Any) -> Response:
        return Response(json.dumps(data), media_type=media_type, **kwargs)

    async def route_doc(self, request: Request, base: str, path: str) -> Response:
        return self.json(self.doc(base + path))

    async def route_ld(self, request: Request, base: str, path: str) -> Response:
        return self.json(self.doc(base + path), media_type=LD)

    async def route_plain(self, request: Request, base: str, path: str) -> Response:
        return self.json(self.doc(base + path), media_type="application/json")

    async def route_jrd(self, request: Request, base: str, path: str) -> Response:
        return self.json({"subject": "acct:a@peer.test", "links": []}, "application/jrd+json")

    async def route_html(self, request: Request, base: str, path: str) -> Response:
        return Response("<html>hi</html>", media_type="text/html")

    async def route_hop(self, request: Request, base: str, path: str) -> Response:
        left = int(path.rsplit("/", 1)[1])
        if left == 0:
            return self.json(self.doc(base + path))
        return RedirectResponse(f"{base}/hop/{left - 1}", status_code=302)

    async def route_relative(self, request: Request, base: str, path: str) -> Response:
        return RedirectResponse("/doc/relative", status_code=301)

    async def route_loop_a(self, request: Request, base: str, path: str) -> Response:
        return RedirectResponse("/loop-b", status_code=307)

    async def route_loop_b(self, request: Request, base: str, path: str) -> Response:
        return RedirectResponse("/loop-a", status_code=308)

    async def route_to(self, request: Request, base: str, path: str) -> Response:
        # /to?u=<location>: redirect anywhere, unchecked.
        return Response(status_code=302, headers={"location": request.query_params["u"]})

    async def route_chunked(self, request: Request, base: str, path: str) -> Response:
        # No Content-Length at all: only counting catches it (rule 29).
        async def body() -> AsyncIterator[bytes]:
            yield b'{"id": "' + base.encode() + b'/chunked", "pad": "'
            for _ in range(2 * MIB // 65536):
                yield b"x" * 65536
            yield b'"}'

        return StreamingResponse(body(), media_type=AS2)

    async def route_declared(self, request: Request, base: str, path: str) -> Response:
        async def body() -> AsyncIterator[bytes]:
            yield b"{}"

        return StreamingResponse(body(), media_type=AS2, headers={"content-length": str(5 * MIB)})

    async def route_bomb(self, request: Request, base: str, path: str) -> Response:
        payload = b'{"pad": "' + b"0" * (8 * MIB) + b'"}'
        packed = gzip.compress(payload)
        return Response(packed, media_type=AS2, headers={"content-encoding": "gzip"})

    async def route_gzipped(self, request: Request, base: str, path: str) -> Response:
        packed = gzip.compress(json.dumps(self.doc(base + path)).encode())
        return Response(packed, media_type=AS2, headers={"content-encoding": "gzip"})

    async def route_slow(self, request: Request, base: str, path: str) -> Response:
        async def body() -> AsyncIterator[bytes]:
            yield b'{"id": "'
            while True:  # slowloris: a byte now and then, forever
                await anyio.sleep(0.1)
                yield b"x"

        return StreamingResponse(body(), media_type=AS2)

    async def route_wrong_id(self, request: Request, base: str, path: str) -> Response:
        return self.json(self.doc("http://other.test/thing"))

    async def route_url_claim(self, request: Request, base: str, path: str) -> Response:
        # Claims authority through "url" only: must not count (rule 30).
        return self.json(self.doc("http://other.test/thing", url=base + path))

    async def route_moved_id(self, request: Request, base: str, path: str) -> Response:
        return self.json(self.doc(base + "/doc/moved"))

    async def route_lying_id(self, request: Request, base: str, path: str) -> Response:
        # Same host, but the id's own URL serves something else again.
        return self.json(self.doc(base + "/wrong-id/again"))

    async def route_no_id(self, request: Request, base: str, path: str) -> Response:
        return self.json({"type": "Note"})

    async def route_array(self, request: Request, base: str, path: str) -> Response:
        return self.json([self.doc(base + path)])

    async def route_deep(self, request: Request, base: str, path: str) -> Response:
        depth = int(path.rsplit("/", 1)[1])
        nested: Any = 1
        for _ in range(depth - 1):
            nested = {"a": nested}
        return self.json(self.doc(base + path, nested=nested))

    async def route_status(self, request: Request, base: str, path: str) -> Response:
        return Response("no", status_code=int(path.rsplit("/", 1)[1]))

    async def route_echo(self, request: Request, base: str, path: str) -> Response:
        return self.json(self.doc(base + path, headers=dict(request.headers)))

    async def route_cookie(self, request: Request, base: str, path: str) -> Response:
        response = self.json(self.doc(base + path))
        response.set_cookie("session", "tracking", domain=None)
        return response

    async def route_inbox(self, request: Request, base: str, path: str) -> Response:
        await request.body()
        return Response(status_code=202)

    async def route_busy(self, request: Request, base: str, path: str) -> Response:
        return Response("slow down", status_code=429, headers={"retry-after": "120"})

    async def route_down(self, request: Request, base: str, path: str) -> Response:
        return Response(
            "later", status_code=503, headers={"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}
        )

    async def route_chatty(self, request: Request, base: str, path: str) -> Response:
        return Response(b"e" * MIB, status_code=400)

    async def route_moved_inbox(self, request: Request, base: str, path: str) -> Response:
        return RedirectResponse("/inbox", status_code=308)

    async def route_big_json(self, request: Request, base: str, path: str) -> Response:
        return JSONResponse({"id": base + path, "pad": "y" * (MIB - 100)}, media_type=AS2)
