"""AiohttpTransport (aiohttp's client behind our guarded resolver), against a raw TCP server with
scripted answers.

A real peer (uvicorn) answers well; these answers are the odd ones real servers also send, and
hostile ones: chunked bodies, bodies that end with the connection, interim 1xx answers, oversized
and endless heads, bytes past an answer's end, a ``101``, and a kept-alive connection the peer
closes.
"""

from __future__ import annotations

import asyncio
import tracemalloc
from collections.abc import AsyncIterator, Callable, Sequence

import aiohttp
import httpx
import pytest

from fedi.crypto import Verified, verify_request
from fedi.net import LOOPBACK_NETWORKS, BadUrl, FetchError, NetworkError
from fedi.net.auth import SignatureAuth
from fedi.net.client import FetchPolicy, SafeClient, build_ssl_context
from fedi.net.resolver import GuardedResolver
from fedi.net.transport import MAX_HEAD, MAX_HEADERS, AiohttpTransport
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
        self.ended = asyncio.Event()  # set when a connection ends
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
            self.ended.set()

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
async def pool() -> AsyncIterator[AiohttpTransport]:
    """A pool with the default limits, closed after the test."""
    default = transport()
    yield default
    await default.aclose()


@pytest.fixture
async def client() -> AsyncIterator[SafeClient]:
    async with SafeClient(POLICY, resolver=loopback) as safe:
        yield safe


async def started(server: ScriptedServer) -> ScriptedServer:
    server.server = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    return server


async def loopback(host: str, port: int) -> Sequence[str]:
    return ["127.0.0.1"]


POLICY = FetchPolicy(
    user_agent="fedi-test/1.0", private_networks=LOOPBACK_NETWORKS, allow_http=True
)


def transport(*, per_host: int = 4, expiry: float = 30) -> AiohttpTransport:
    guard = GuardedResolver(loopback, private_networks=LOOPBACK_NETWORKS, timeout=5)
    return AiohttpTransport(
        guard,
        loopback,
        ssl_context=build_ssl_context(),
        max_connections=16,
        per_host_connections=per_host,
        keepalive_expiry=expiry,
        connect_timeout=5,
    )


async def send(pool: AiohttpTransport, url: str, body: bytes = b"") -> tuple[int, bytes]:
    """One exchange, read to its end; a hang fails the test after five seconds."""
    method = "POST" if body else "GET"
    async with asyncio.timeout(5):
        request = httpx.Request(method, url, content=body or None)
        response = await pool.handle_async_request(request)
        try:
            return response.status_code, b"".join([chunk async for chunk in response.aiter_raw()])
        finally:
            await response.aclose()


def bodies(server: ScriptedServer) -> list[bytes]:
    return [request.rsplit(b"\r\n\r\n", 1)[1] for request in server.requests]


OK = b"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nok"


async def test_request_on_the_wire_and_keep_alive(
    serve: Callable[..., ScriptedServer], pool: AiohttpTransport
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


async def test_chunked_body(serve: Callable[..., ScriptedServer], pool: AiohttpTransport) -> None:
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    )
    server = await started(serve([chunked, OK]))
    assert await send(pool, f"http://peer.test:{server.port}/") == (200, b"hello world")
    assert await send(pool, f"http://peer.test:{server.port}/") == (202, b"ok")
    assert server.connections == 1


async def test_body_without_length_ends_with_the_connection(
    serve: Callable[..., ScriptedServer], pool: AiohttpTransport
) -> None:
    server = await started(serve([b"HTTP/1.1 200 OK\r\n\r\nuntil close", OK], close_after=True))
    assert await send(pool, f"http://peer.test:{server.port}/") == (200, b"until close")
    assert await send(pool, f"http://peer.test:{server.port}/") == (202, b"ok")
    assert server.connections == 2  # never reused: its end was the body's end


async def test_truncated_body_is_an_error(
    serve: Callable[..., ScriptedServer], client: SafeClient
) -> None:
    short = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"
    server = await started(serve([short], close_after=True))
    with pytest.raises(NetworkError):
        await client.post(f"http://peer.test:{server.port}/inbox", b"{}")


async def test_interim_answer_is_skipped(
    serve: Callable[..., ScriptedServer], pool: AiohttpTransport
) -> None:
    server = await started(serve([b"HTTP/1.1 100 Continue\r\n\r\n" + OK]))
    assert await send(pool, f"http://peer.test:{server.port}/", b"{}") == (202, b"ok")


async def test_oversized_head_is_refused(
    serve: Callable[..., ScriptedServer], client: SafeClient
) -> None:
    huge = b"HTTP/1.1 200 OK\r\nX-Filler: " + b"a" * (2 * MAX_HEAD) + b"\r\n\r\n"
    server = await started(serve([huge]))
    with pytest.raises(NetworkError, match="bad response"):
        await client.post(f"http://peer.test:{server.port}/inbox", b"{}")


async def test_too_many_headers_are_refused(
    serve: Callable[..., ScriptedServer], client: SafeClient
) -> None:
    # Each line is short; their number is what bounds the whole head (MAX_HEAD).
    lines = b"".join(b"X-Filler-%d: %s\r\n" % (n, b"a" * 8000) for n in range(MAX_HEADERS + 1))
    server = await started(serve([b"HTTP/1.1 200 OK\r\n" + lines + b"Content-Length: 0\r\n\r\n"]))
    with pytest.raises(NetworkError, match="bad response"):
        await client.post(f"http://peer.test:{server.port}/inbox", b"{}")


async def test_endless_header_is_refused_in_bounded_memory(client: SafeClient) -> None:
    # One header whose value never ends, streamed as fast as the socket takes it: the client
    # must give up once the head passes its cap, holding no more than about that much.
    sent = 0
    ended = asyncio.Event()

    async def endless(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal sent
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nX-Endless: ")
        chunk = b"a" * 16384
        try:
            while True:
                writer.write(chunk)
                await writer.drain()
                sent += len(chunk)
        except ConnectionError:
            pass
        finally:
            writer.close()
            ended.set()

    server = await asyncio.start_server(endless, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    tracemalloc.start()
    try:
        with pytest.raises(NetworkError, match="bad response"):
            async with asyncio.timeout(10):
                await client.post(f"http://peer.test:{port}/inbox", b"{}")
        _, peak = tracemalloc.get_traced_memory()
        async with asyncio.timeout(5):
            await ended.wait()  # the client closed the connection
    finally:
        tracemalloc.stop()
        server.close()
    assert sent > MAX_HEAD  # the server did stream past the cap
    # The head's cap, the socket's read buffer and the server's own buffers in this process.
    assert peak < 2 * 1024 * 1024, peak


async def test_garbage_answer_is_a_network_error(
    serve: Callable[..., ScriptedServer], client: SafeClient
) -> None:
    server = await started(serve([b"SMTP ready\r\n\r\n"]))
    with pytest.raises(NetworkError):
        await client.post(f"http://peer.test:{server.port}/inbox", b"{}")


FORGED = b"HTTP/1.1 299 Forged\r\nContent-Length: 6\r\n\r\nforged"


async def test_bytes_after_an_answer_are_never_the_next_answer(
    serve: Callable[..., ScriptedServer], pool: AiohttpTransport
) -> None:
    # The peer sends a whole second answer right behind the first, before any second request:
    # on a reused connection it would be taken as the answer to the next request.
    real = b"HTTP/1.1 201 Created\r\nContent-Length: 4\r\n\r\nreal"
    server = await started(serve([OK + FORGED, real]))
    url = f"http://peer.test:{server.port}/inbox"
    assert await send(pool, url, b"1") == (202, b"ok")
    assert await send(pool, url, b"2") == (201, b"real")
    assert server.connections == 2
    assert bodies(server) == [b"1", b"2"]


async def test_an_upgrade_answer_is_a_fetch_error(
    serve: Callable[..., ScriptedServer], client: SafeClient
) -> None:
    upgrade = (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
    )
    server = await started(serve([upgrade, upgrade]))
    with pytest.raises(FetchError):
        await client.post(f"http://peer.test:{server.port}/inbox", b"{}")
    with pytest.raises(FetchError):
        await client.fetch_json(f"http://peer.test:{server.port}/actor")


async def test_closed_idle_connection_is_replaced_for_a_get(
    serve: Callable[..., ScriptedServer], pool: AiohttpTransport
) -> None:
    # The peer closes the kept-alive connection as the next request arrives, as servers do when
    # their keep-alive timeout passes at that moment: a GET goes out again on a new connection.
    server = await started(serve([OK, None, OK]))
    url = f"http://peer.test:{server.port}/actor"
    assert await send(pool, url) == (202, b"ok")
    assert await send(pool, url) == (202, b"ok")
    assert server.connections == 2
    assert len(server.requests) == 3


async def test_a_post_the_peer_dropped_is_not_sent_again(
    serve: Callable[..., ScriptedServer], client: SafeClient
) -> None:
    # A POST may have been acted on before the peer closed: it is a NetworkError (a delivery
    # is retried on its own schedule), never a second copy on a new connection.
    server = await started(serve([OK, None, OK]))
    url = f"http://peer.test:{server.port}/inbox"
    assert (await client.post(url, b"1")).status == 202
    with pytest.raises(NetworkError):
        await client.post(url, b"2")
    assert bodies(server) == [b"1", b"2"]


async def test_connection_the_peer_closed_while_idle_is_not_used(
    serve: Callable[..., ScriptedServer], pool: AiohttpTransport
) -> None:
    server = await started(serve([OK, OK], close_after=True))
    url = f"http://peer.test:{server.port}/inbox"
    assert await send(pool, url, b"1") == (202, b"ok")
    async with asyncio.timeout(5):
        await server.ended.wait()  # the peer closed it while it was idle...
    await asyncio.sleep(0.05)  # ...and its end reached this side (nothing to poll for it)
    assert await send(pool, url, b"2") == (202, b"ok")
    assert server.connections == 2
    assert bodies(server) == [b"1", b"2"]  # nothing sent twice


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


async def test_header_injection_is_refused_before_sending(
    serve: Callable[..., ScriptedServer], client: SafeClient
) -> None:
    server = await started(serve([OK]))
    with pytest.raises(BadUrl):
        await client.post(
            f"http://peer.test:{server.port}/inbox", b"{}", headers={"X-Evil": "a\r\nInjected: 1"}
        )
    assert server.requests == []


async def test_refused_connection_is_a_connect_error(pool: AiohttpTransport) -> None:
    listener = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    listener.close()
    await listener.wait_closed()
    with pytest.raises(aiohttp.ClientConnectorError):
        await send(pool, f"http://peer.test:{port}/")


ALICE = "https://alice.test/users/alice"


def parsed(raw: bytes) -> tuple[str, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    fields = dict(line.split(": ", 1) for line in lines[1:])
    return lines[0], fields, body


async def test_signed_deliveries_and_fetches_verify_on_the_wire(
    serve: Callable[..., ScriptedServer], client: SafeClient
) -> None:
    # Both go through the one httpx flow: SignatureAuth signs what is then sent, byte for byte.
    delivered = b"HTTP/1.1 202 Accepted\r\nRetry-After: 120\r\nContent-Length: 4\r\n\r\nokay"
    server = await started(serve([delivered, OK]))
    auth = SignatureAuth(ALICE_KEY_ID, alice_key(), lambda: FIXED_NOW)
    url = f"http://peer.test:{server.port}/users/x/inbox?page=1"
    result = await client.post(url, b'{"type":"Create"}', headers={"X-Extra": "1"}, auth=auth)
    assert (result.status, result.retry_after, result.body_excerpt) == (202, 120, "okay")
    with pytest.raises(FetchError):  # the answer is no document; the request is what counts
        await client.fetch_json(url, auth=auth)
    resolve = RecordingResolver.of(ALICE_KEY_ID, ALICE, alice_key())
    for raw, method in zip(server.requests, ("POST", "GET"), strict=True):
        line, headers, body = parsed(raw)
        assert line == f"{method} /users/x/inbox?page=1 HTTP/1.1"
        verified = await verify_request(
            method,
            url,
            headers,
            body,
            resolve_key=resolve,
            now=FIXED_NOW,
            expected_host=f"peer.test:{server.port}",
        )
        assert isinstance(verified, Verified), (method, verified)


async def test_a_connection_in_use_when_the_pool_closes_is_closed_after(
    serve: Callable[..., ScriptedServer],
) -> None:
    server = await started(serve([OK]))
    pool = transport()
    response = await pool.handle_async_request(
        httpx.Request("GET", f"http://peer.test:{server.port}/")
    )
    await pool.aclose()
    assert b"".join([chunk async for chunk in response.aiter_raw()]) == b"ok"
    await response.aclose()
    async with asyncio.timeout(5):  # the client closes it: the server sees its end
        await server.ended.wait()
