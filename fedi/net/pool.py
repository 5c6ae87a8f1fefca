"""The httpx transport under :class:`fedi.net.client.SafeClient`: httpcore's HTTP/1.1 connections
over the guarded network of :mod:`fedi.net.backend`, in a pool of our own.

httpcore (with h11 underneath) does the protocol: request framing and header checks (CR, LF and
NUL refused), response parsing with the head of an answer capped at :data:`MAX_HEAD` bytes
(h11's incomplete-event limit: a peer streaming one endless header gets a
``RemoteProtocolError``, not our memory), chunked bodies, interim answers (a ``101`` nobody
asked for is a protocol error), keep-alive and whether a connection may be used again (a peer
that closed an idle connection). Here:

* the pool: per-origin and total caps on requests in flight, idle connections kept for a while;
* a connection is not used again when the peer sent bytes past the end of an answer: they are
  never read as the answer to the next request;
* with a proxy, every origin is reached through a ``CONNECT`` tunnel to it, TLS end to end.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import OrderedDict
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from functools import partial

import httpcore
import httpx

from fedi.net.backend import GuardedBackend

__all__ = ["MAX_HEAD", "GuardedTransport"]

MAX_HEAD = httpcore.AsyncHTTP11Connection.MAX_INCOMPLETE_EVENT_SIZE
"""The most bytes an answer's status line and headers may take (h11 refuses more)."""

_DEFAULT_PORTS = {b"http": 80, b"https": 443}
_Key = tuple[bytes, bytes, int]  # an origin: scheme, host, port


class _StrictHTTP11Connection(httpcore.AsyncHTTP11Connection):
    """httpcore's HTTP/1.1 connection, never reused once the peer sent more than an answer.

    Such bytes stay in h11's buffer when the answer ends, and h11 would read them as the answer
    to the next request sent on the connection (a desynchronised or hostile peer choosing what
    we read next). Expired, the pool closes the connection instead.
    """

    def has_expired(self) -> bool:
        trailing, _closed = self._h11_state.trailing_data
        return bool(trailing) or super().has_expired()


class _Connection(httpcore.AsyncConnectionInterface):
    """One connection to ``origin``, made when its first request comes: through the guarded
    backend (directly, or a ``CONNECT`` tunnel through ``proxy``), TLS for ``https`` with the
    host name, then :class:`_StrictHTTP11Connection`. The pool hands a new connection to one
    request only, so connecting needs no lock."""

    def __init__(
        self,
        origin: httpcore.Origin,
        backend: GuardedBackend,
        ssl_context: ssl.SSLContext,
        keepalive_expiry: float,
        proxy: httpcore.Origin | None,
    ) -> None:
        self._origin = origin
        self._backend = backend
        self._ssl_context = ssl_context
        self._keepalive_expiry = keepalive_expiry
        self._proxy = proxy
        self._http: _StrictHTTP11Connection | None = None
        self._failed = False

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        if self._http is None:
            try:
                self._http = await self._connect(request)
            except BaseException:
                self._failed = True
                raise
        return await self._http.handle_async_request(request)

    async def _connect(self, request: httpcore.Request) -> _StrictHTTP11Connection:
        timeout = request.extensions.get("timeout", {}).get("connect")
        host = self._origin.host.decode("ascii")
        if self._proxy is None:
            stream = await self._backend.connect_tcp(host, self._origin.port, timeout)
        else:
            await self._backend.check(host, self._origin.port)
            proxy_host = self._proxy.host.decode("ascii")
            stream = await self._backend.connect_tcp(proxy_host, self._proxy.port, timeout)
            stream = await self._tunnel(stream, self._proxy, request)
        try:
            if self._origin.scheme == b"https":
                stream = await stream.start_tls(self._ssl_context, host, timeout)
        except BaseException:
            await stream.aclose()
            raise
        return _StrictHTTP11Connection(self._origin, stream, self._keepalive_expiry)

    async def _tunnel(
        self,
        stream: httpcore.AsyncNetworkStream,
        proxy: httpcore.Origin,
        request: httpcore.Request,
    ) -> httpcore.AsyncNetworkStream:
        """Ask the proxy for a tunnel to our origin; the stream through it."""
        host = self._origin.host
        authority = b"%b:%d" % (b"[%b]" % host if b":" in host else host, self._origin.port)
        connect = httpcore.AsyncHTTP11Connection(proxy, stream)
        url = httpcore.URL(scheme=proxy.scheme, host=proxy.host, port=proxy.port, target=authority)
        answer = await connect.handle_async_request(
            httpcore.Request(
                b"CONNECT", url, headers=[(b"Host", authority)], extensions=request.extensions
            )
        )
        if not 200 <= answer.status < 300:
            await connect.aclose()
            raise httpcore.ProxyError(f"the proxy refused the tunnel ({answer.status})")
        tunnel: httpcore.AsyncNetworkStream = answer.extensions["network_stream"]
        return tunnel

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()

    def info(self) -> str:
        return self._http.info() if self._http is not None else "connecting"

    def can_handle_request(self, origin: httpcore.Origin) -> bool:
        return origin == self._origin

    def is_available(self) -> bool:
        return self._http is not None and self._http.is_available()

    def has_expired(self) -> bool:
        return self._failed if self._http is None else self._http.has_expired()

    def is_idle(self) -> bool:
        return self._http is not None and self._http.is_idle()

    def is_closed(self) -> bool:
        return self._failed if self._http is None else self._http.is_closed()


class _Host:
    """One origin's share of the pool: its idle connections and its concurrency cap."""

    __slots__ = ("idle", "slots", "users")

    def __init__(self, limit: int) -> None:
        self.slots = asyncio.Semaphore(limit)
        self.idle: list[_Connection] = []
        self.users = 0


class _Body(httpx.AsyncByteStream):
    """An answer's body from httpcore; closing it hands the connection back to the pool."""

    def __init__(self, stream: AsyncIterable[bytes], done: Callable[[], Awaitable[None]]) -> None:
        self._stream = stream
        self._done: Callable[[], Awaitable[None]] | None = done

    def __aiter__(self) -> AsyncIterator[bytes]:
        return aiter(self._stream)

    async def aclose(self) -> None:
        if self._done is None:
            return
        done, self._done = self._done, None
        try:
            closer = getattr(self._stream, "aclose", None)
            if closer is not None:
                await closer()
        finally:
            await done()


class GuardedTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 through httpcore's connections over ``backend``, pooled per origin.

    At most ``max_connections`` requests are in flight in all and ``per_host_connections`` per
    origin. Idle connections are kept ``keepalive_expiry`` seconds, at most
    ``max_idle_connections`` of them (the least recently used is closed first). A request that
    fails on a kept-alive connection (the peer closed it as it was used) is sent once more on a
    new one. httpcore's own pool is not used: it scans every connection for every request, which
    a fan-out to a thousand hosts could not afford.

    ``proxy`` is the ``(host, port)`` of an HTTP proxy: every request then goes through a
    tunnel it opens. Timeouts come from each request's ``timeout`` extension, as httpx sets them.
    """

    def __init__(
        self,
        backend: GuardedBackend,
        *,
        ssl_context: ssl.SSLContext,
        max_connections: int,
        per_host_connections: int,
        max_idle_connections: int,
        keepalive_expiry: float,
        proxy: tuple[str, int] | None = None,
    ) -> None:
        self._backend = backend
        self._ssl_context = ssl_context
        self._slots = asyncio.Semaphore(max_connections)
        self._per_host = per_host_connections
        self._max_idle = max_idle_connections
        self._keepalive_expiry = keepalive_expiry
        self._proxy = None
        if proxy is not None:
            self._proxy = httpcore.Origin(b"http", proxy[0].encode("ascii"), proxy[1])
        self._hosts: dict[_Key, _Host] = {}
        # Idle connections, least recently used first, with when each became idle.
        self._idle: OrderedDict[_Connection, tuple[_Key, float]] = OrderedDict()
        self._closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        scheme = url.raw_scheme
        if scheme not in _DEFAULT_PORTS:
            raise httpcore.UnsupportedProtocol(f"unsupported scheme {url.scheme!r}")
        port = url.port or _DEFAULT_PORTS[scheme]
        origin = httpcore.Origin(scheme, url.raw_host, port)
        key = (scheme, url.raw_host, port)
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(scheme=scheme, host=url.raw_host, port=url.port, target=url.raw_path),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        host = self._hosts.get(key)
        if host is None:
            host = self._hosts[key] = _Host(self._per_host)
        host.users += 1
        held = 0
        connection: _Connection | None = None
        try:
            await host.slots.acquire()
            held = 1
            await self._slots.acquire()
            held = 2
            connection, answer = await self._exchange(origin, key, host, core)
        except BaseException:
            await self._finish(key, host, connection, held, reuse=False)
            raise
        assert isinstance(answer.stream, AsyncIterable)
        done = partial(self._finish, key, host, connection, held, reuse=True)
        return httpx.Response(
            status_code=answer.status,
            headers=answer.headers,
            stream=_Body(answer.stream, done),
            extensions=answer.extensions,
        )

    async def _exchange(
        self, origin: httpcore.Origin, key: _Key, host: _Host, request: httpcore.Request
    ) -> tuple[_Connection, httpcore.Response]:
        while (connection := await self._take_idle(host)) is not None:
            try:
                return connection, await connection.handle_async_request(request)
            except (httpcore.RemoteProtocolError, httpcore.ReadError, httpcore.WriteError):
                await connection.aclose()  # closed by the peer meanwhile: try a new one
            except BaseException:
                await connection.aclose()
                raise
        connection = _Connection(
            origin, self._backend, self._ssl_context, self._keepalive_expiry, self._proxy
        )
        try:
            return connection, await connection.handle_async_request(request)
        except BaseException:
            await connection.aclose()
            raise

    async def _take_idle(self, host: _Host) -> _Connection | None:
        """The origin's most recently used idle connection, if it is still fresh and usable."""
        while host.idle:
            connection = host.idle.pop()
            del self._idle[connection]
            if connection.is_available() and not connection.has_expired():
                return connection
            await connection.aclose()
        return None

    async def _finish(
        self,
        key: _Key,
        host: _Host,
        connection: _Connection | None,
        held: int,
        *,
        reuse: bool,
    ) -> None:
        """Hand back what a request held: its connection (kept if reusable), its slots."""
        if held >= 2:
            self._slots.release()
        if held >= 1:
            host.slots.release()
        host.users -= 1
        closing: list[_Connection] = []
        if connection is not None:
            if (
                reuse
                and not self._closed
                and connection.is_available()
                and not connection.has_expired()
            ):
                host.idle.append(connection)
                self._idle[connection] = (key, time.monotonic())
                closing.extend(self._surplus())
            else:
                closing.append(connection)
        if not host.users and not host.idle and self._hosts.get(key) is host:
            del self._hosts[key]
        for old in closing:
            await old.aclose()

    def _surplus(self) -> list[_Connection]:
        """Take out the idle connections over the cap or past their keep-alive, oldest first."""
        taken = []
        expired_before = time.monotonic() - self._keepalive_expiry
        while self._idle:
            connection, (key, since) = next(iter(self._idle.items()))
            if len(self._idle) <= self._max_idle and since >= expired_before:
                break
            del self._idle[connection]
            host = self._hosts[key]
            host.idle.remove(connection)
            if not host.users and not host.idle:
                del self._hosts[key]
            taken.append(connection)
        return taken

    async def aclose(self) -> None:
        """Close the idle connections; those in use are closed as their answers are."""
        self._closed = True
        connections = list(self._idle)
        self._idle.clear()
        self._hosts.clear()
        for connection in connections:
            await connection.aclose()
