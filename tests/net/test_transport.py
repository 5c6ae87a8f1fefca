"""PooledTransport and its HTTP/1.1 connections, against a raw TCP server with scripted answers.

A real peer (uvicorn) answers well; these answers are the odd ones real servers also send:
chunked bodies, bodies that end with the connection, interim 1xx answers, oversized heads, and a
kept-alive connection the peer closes while it sits idle.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence

import httpx
import pytest

from fedi.crypto import Verified, verify_request
from fedi.net.auth import SignatureAuth
from fedi.net.client import FetchPolicy, SafeClient, build_ssl_context
from fedi.net.http1 import MAX_HEAD, serialize_request
from fedi.net.resolver import GuardedResolver
from fedi.net.transport import PooledTransport
from fedi.testing.keys import ALICE_KEY_ID, FIXED_NOW, RecordingResolver, alice_key

Answer = Callable[[bytes], bytes | None]  # request bytes -> raw answer (None: close the socket)


class ScriptedServer:
    """Answers each request on a connection with the next scripted answer; after answering
    with ``close_after``, it closes the connection. Records every request and connection."""

    def __init__(self, answers: Sequence[bytes | None], *, close_after: bool = False) -> None:
        self.answers = list(answers)
        self.close_after = close_after
        self.requests: list[bytes] = []
        self.connections = 0
        self.server: asyncio.Server | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                body = await reader.readexactly(length)
                self.requests.append(head + body)
                answer = self.answers.pop(0)
                if answer is None:
                    break
                writer.write(answer)
                await writer.drain()
                if self.close_after:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])


@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., ScriptedServer]]:
    servers: list[ScriptedServer] = []

    def start(answers: Sequence[bytes | None], **kwargs: bool) -> ScriptedServer:
        server = ScriptedServer(answers, **kwargs)
        servers.append(server)
        return server

    yield start
    for server in servers:
        if server.server is not None:
            server.server.close()


@pytest.fixture
async def pool() -> AsyncIterator[PooledTransport]:
    """A pool with the default limits, closed after the test."""
    default = transport()
    yield default
    await default.aclose()


async def started(server: ScriptedServer) -> ScriptedServer:
    server.server = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    return server


async def loopback(host: str, port: int) -> Sequence[str]:
    return ["127.0.0.1"]


def transport(*, per_host: int = 4, max_idle_hosts: int = 8, expiry: float = 30) -> PooledTransport:
    return PooledTransport(
        GuardedResolver(loopback, allow_private=True, timeout=5),
        ssl_context=build_ssl_context(),
        max_connections=16,
        per_host_connections=per_host,
        max_idle_hosts=max_idle_hosts,
        keepalive_expiry=expiry,
    )


async def send(pool: PooledTransport, url: str, body: bytes = b"") -> tuple[int, bytes]:
    """One exchange, read to its end; a hang fails the test after five seconds."""
    method = "POST" if body else "GET"
    async with asyncio.timeout(5):
        request = httpx.Request(method, url, content=body or None)
        response = await pool.handle_async_request(request)
        try:
            return response.status_code, b"".join([chunk async for chunk in response.aiter_raw()])
        finally:
            await response.aclose()


OK = b"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nok"


async def test_request_on_the_wire_and_keep_alive(
    serve: Callable[..., ScriptedServer], pool: PooledTransport
) -> None:
    server = await started(serve([OK, OK]))
    url = f"http://peer.test:{server.port}/inbox?x=1"
    assert await send(pool, url, b'{"a":1}') == (202, b"ok")
    assert await send(pool, url, b'{"a":2}') == (202, b"ok")
    assert server.connections == 1  # the second request reused the connection
    first = server.requests[0]
    assert first.startswith(b"POST /inbox?x=1 HTTP/1.1\r\n")
    assert f"host: peer.test:{server.port}\r\n".encode() in first.lower()
    assert first.endswith(b'\r\n\r\n{"a":1}')


async def test_chunked_body(serve: Callable[..., ScriptedServer], pool: PooledTransport) -> None:
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    )
    server = await started(serve([chunked, OK]))
    assert await send(pool, f"http://peer.test:{server.port}/") == (200, b"hello world")
    assert await send(pool, f"http://peer.test:{server.port}/") == (202, b"ok")
    assert server.connections == 1


async def test_body_without_length_ends_with_the_connection(
    serve: Callable[..., ScriptedServer], pool: PooledTransport
) -> None:
    server = await started(serve([b"HTTP/1.1 200 OK\r\n\r\nuntil close", OK], close_after=True))
    assert await send(pool, f"http://peer.test:{server.port}/") == (200, b"until close")
    assert await send(pool, f"http://peer.test:{server.port}/") == (202, b"ok")
    assert server.connections == 2  # never reused: its end was the body's end


async def test_truncated_body_is_an_error(
    serve: Callable[..., ScriptedServer], pool: PooledTransport
) -> None:
    short = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"
    server = await started(serve([short], close_after=True))
    with pytest.raises(httpx.RemoteProtocolError):
        await send(pool, f"http://peer.test:{server.port}/")


async def test_interim_answer_is_skipped(
    serve: Callable[..., ScriptedServer], pool: PooledTransport
) -> None:
    server = await started(serve([b"HTTP/1.1 100 Continue\r\n\r\n" + OK]))
    assert await send(pool, f"http://peer.test:{server.port}/", b"{}") == (202, b"ok")


async def test_oversized_head_is_refused(
    serve: Callable[..., ScriptedServer], pool: PooledTransport
) -> None:
    huge = b"HTTP/1.1 200 OK\r\nX-Filler: " + b"a" * (MAX_HEAD + 1) + b"\r\n\r\n"
    server = await started(serve([huge]))
    with pytest.raises(httpx.RemoteProtocolError):
        await send(pool, f"http://peer.test:{server.port}/")


async def test_garbage_answer_is_a_protocol_error(
    serve: Callable[..., ScriptedServer], pool: PooledTransport
) -> None:
    server = await started(serve([b"SMTP ready\r\n\r\n"]))
    with pytest.raises(httpx.RemoteProtocolError):
        await send(pool, f"http://peer.test:{server.port}/")


async def test_closed_idle_connection_is_replaced(
    serve: Callable[..., ScriptedServer], pool: PooledTransport
) -> None:
    # The peer closes the kept-alive connection after the first answer, as servers do when their
    # keep-alive timeout passes: the next request goes out again on a new connection.
    server = await started(serve([OK, None, OK]))
    url = f"http://peer.test:{server.port}/inbox"
    assert await send(pool, url, b"1") == (202, b"ok")
    assert await send(pool, url, b"2") == (202, b"ok")
    assert server.connections == 2
    assert [request.rsplit(b"\r\n\r\n", 1)[1] for request in server.requests] == [b"1", b"2", b"2"]


async def test_expired_idle_connection_is_not_reused(
    serve: Callable[..., ScriptedServer],
) -> None:
    server = await started(serve([OK, OK]))
    pool = transport(expiry=0.0)
    try:
        url = f"http://peer.test:{server.port}/"
        await send(pool, url)
        await asyncio.sleep(0.01)
        await send(pool, url)
    finally:
        await pool.aclose()
    assert server.connections == 2


async def test_per_host_cap(serve: Callable[..., ScriptedServer]) -> None:
    slow_peer_in_flight = 0
    most = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal slow_peer_in_flight, most
        await reader.readuntil(b"\r\n\r\n")
        slow_peer_in_flight += 1
        most = max(most, slow_peer_in_flight)
        await asyncio.sleep(0.05)
        slow_peer_in_flight -= 1
        writer.write(OK)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    pool = transport(per_host=2)
    try:
        results = await asyncio.gather(*(send(pool, f"http://peer.test:{port}/") for _ in range(6)))
    finally:
        await pool.aclose()
        server.close()
    assert results == [(202, b"ok")] * 6
    assert most == 2


async def test_idle_origins_beyond_the_limit_are_closed(
    serve: Callable[..., ScriptedServer],
) -> None:
    servers = [await started(serve([OK, OK])) for _ in range(3)]
    pool = transport(max_idle_hosts=2)
    try:
        for server in servers:
            await send(pool, f"http://peer.test:{server.port}/")
        # The first origin was the least recently used: its idle connection was closed.
        await send(pool, f"http://peer.test:{servers[0].port}/")
        await send(pool, f"http://peer.test:{servers[2].port}/")
    finally:
        await pool.aclose()
    assert [server.connections for server in servers] == [2, 1, 1]


def test_header_injection_is_refused() -> None:
    request = httpx.Request("GET", "http://peer.test/", headers={"X-Evil": "a\r\nInjected: 1"})
    with pytest.raises(httpx.LocalProtocolError):
        serialize_request(request, b"")


async def test_unsupported_requests(pool: PooledTransport) -> None:
    with pytest.raises(httpx.UnsupportedProtocol):
        await pool.handle_async_request(httpx.Request("HEAD", "http://peer.test/"))
    with pytest.raises(httpx.UnsupportedProtocol):
        await pool.handle_async_request(httpx.Request("GET", "ftp://peer.test/"))
    await pool.aclose()
    with pytest.raises(httpx.TransportError, match="closed"):
        await pool.handle_async_request(httpx.Request("GET", "http://peer.test/"))


async def test_refused_connection_is_a_connect_error(pool: PooledTransport) -> None:
    listener = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    listener.close()
    await listener.wait_closed()
    with pytest.raises(httpx.ConnectError):
        await send(pool, f"http://peer.test:{port}/")


class Wrapped(httpx.AsyncBaseTransport):
    """The same pool behind another transport type: SafeClient then posts through httpx."""

    def __init__(self, inner: PooledTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


ALICE = "https://alice.test/users/alice"


async def test_a_delivery_is_the_same_request_either_way(
    serve: Callable[..., ScriptedServer],
) -> None:
    # SafeClient.post sends deliveries on the pool directly; any other transport gets an
    # httpx request through the auth flow. Both must put the very same bytes on the wire.
    answer = b"HTTP/1.1 202 Accepted\r\nRetry-After: 120\r\nContent-Length: 4\r\n\r\nokay"
    server = await started(serve([answer, answer]))
    policy = FetchPolicy(user_agent="fedi-test/1.0", allow_private=True, allow_http=True)
    auth = SignatureAuth(ALICE_KEY_ID, alice_key(), lambda: FIXED_NOW)
    url = f"http://peer.test:{server.port}/users/x/inbox?page=1"
    body = b'{"type":"Create"}'
    results = []
    for make in (lambda: transport(), lambda: Wrapped(transport())):
        async with SafeClient(policy, transport=make()) as client:
            results.append(await client.post(url, body, headers={"X-Extra": "1"}, auth=auth))
    direct, through_httpx = server.requests
    assert sorted(direct.split(b"\r\n")) == sorted(through_httpx.split(b"\r\n"))
    assert direct.startswith(b"POST /users/x/inbox?page=1 HTTP/1.1\r\n")
    assert results[0] == results[1]
    assert results[0].status == 202 and results[0].retry_after == 120
    assert results[0].body_excerpt == "okay"
    head, _, sent_body = direct.partition(b"\r\n\r\n")
    fields = dict(line.split(b": ", 1) for line in head.split(b"\r\n")[1:])
    headers = {name.decode(): value.decode() for name, value in fields.items()}
    verified = await verify_request(
        "POST",
        url,
        headers,
        sent_body,
        resolve_key=RecordingResolver.of(
            ALICE_KEY_ID, "https://alice.test/users/alice", alice_key()
        ),
        now=FIXED_NOW,
        expected_host=f"peer.test:{server.port}",
    )
    assert isinstance(verified, Verified)
