"""The network layer under :class:`fedi.net.client.SafeClient`: guarded connections in a pool.

:class:`PooledTransport` is an :class:`httpx.AsyncBaseTransport`, so requests, ``httpx.Auth``
flows and streamed, capped bodies work as with any httpx transport. Underneath, each exchange is
one :class:`fedi.net.http1.Connection`; see there why it is not aiohttp or httpcore.

* Every new connection resolves its host through the :class:`GuardedResolver` and connects
  only to the addresses it checked (rule 27); TLS verifies and sends SNI for the host name.
* At most ``max_connections`` requests are in flight in all and ``per_host_connections`` per
  origin; callers over a cap wait their turn.
* Idle connections are kept ``keepalive_expiry`` seconds, for at most ``max_idle_hosts`` origins
  (the least recently used origin's connections are closed first).
* A request that fails on a kept-alive connection before any byte of an answer arrived (the peer
  had closed it meanwhile) is sent once more on a new connection.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx

from fedi.net.http1 import Connection, Head, serialize_request
from fedi.net.resolver import GuardedResolver

__all__ = ["Exchange", "Origin", "PooledTransport", "SocketFactory"]

SocketFactory = Callable[[tuple[Any, ...]], socket.socket]
"""Makes the socket for one ``getaddrinfo``-style address ``(family, type, proto, name, addr)``."""

Origin = tuple[bytes, str, int]
_DEFAULT_PORTS = {b"http": 80, b"https": 443}


class _Host:
    """One origin's share of the pool: its idle connections and its concurrency cap."""

    __slots__ = ("active", "idle", "slots")

    def __init__(self, limit: int) -> None:
        self.slots = asyncio.Semaphore(limit)
        self.idle: list[Connection] = []
        self.active = 0


class Exchange(httpx.AsyncByteStream):
    """An answer: its status and raw headers, and its body to read (as an httpx stream too).
    Closing it hands the connection back to the pool when the body was read to its end, and
    closes the connection otherwise."""

    def __init__(
        self, head: Head, connection: Connection, done: Callable[[Connection], None]
    ) -> None:
        self.status = head.status
        self.headers = head.headers
        self._connection = connection
        self._done: Callable[[Connection], None] | None = done

    async def read(self) -> bytes:
        """The next chunk of the body, ``b""`` at its end."""
        return await self._connection.read()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while chunk := await self._connection.read():
            yield chunk

    async def aclose(self) -> None:
        if self._done is not None:
            done, self._done = self._done, None
            done(self._connection)


class PooledTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 over guarded connections, pooled per origin.

    ``socket_factory`` replaces socket creation (tests record where it connects). The connect
    timeout (resolving, TCP and TLS) comes from the httpx ``timeout`` extension; reads are bounded
    by the caller's deadline (:class:`SafeClient` puts one around every request), not per read.
    """

    def __init__(
        self,
        resolver: GuardedResolver,
        *,
        ssl_context: ssl.SSLContext,
        max_connections: int,
        per_host_connections: int,
        max_idle_hosts: int,
        keepalive_expiry: float,
        socket_factory: SocketFactory | None = None,
    ) -> None:
        self._resolver = resolver
        self._ssl_context = ssl_context
        self._slots = asyncio.Semaphore(max_connections)
        self._per_host = per_host_connections
        self._max_idle_hosts = max_idle_hosts
        self._keepalive_expiry = keepalive_expiry
        self._socket_factory = socket_factory
        self._hosts: dict[Origin, _Host] = {}
        self._idle: OrderedDict[Origin, _Host] = OrderedDict()  # least recently used first
        self._swept = time.monotonic()
        self._closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        scheme = url.raw_scheme
        if scheme not in _DEFAULT_PORTS:
            raise httpx.UnsupportedProtocol(f"unsupported scheme {url.scheme!r}")
        if request.method == "HEAD":
            raise httpx.UnsupportedProtocol("HEAD requests are not supported")
        exchange = await self.exchange(
            (scheme, url.host, url.port or _DEFAULT_PORTS[scheme]),
            serialize_request(request, await request.aread()),
            request.extensions.get("timeout", {}).get("connect"),
        )
        return httpx.Response(
            status_code=exchange.status,
            headers=exchange.headers,
            stream=exchange,
            extensions={"http_version": b"HTTP/1.1"},
        )

    async def exchange(self, origin: Origin, data: bytes, connect_limit: float | None) -> Exchange:
        """Send ``data``, a whole serialised request, to ``origin`` (scheme, host, port) within
        the caps; return the answer's head with its body to read. The caller must close it."""
        if self._closed:
            raise httpx.TransportError("transport is closed")
        host = self._host(origin)
        host.active += 1
        acquired = 0
        try:
            await host.slots.acquire()
            acquired = 1
            await self._slots.acquire()
            acquired = 2
            connection, head = await self._exchange(origin, host, data, connect_limit)
        except BaseException:
            self._finish(origin, host, None, acquired)
            raise
        return Exchange(head, connection, lambda c: self._finish(origin, host, c, 2))

    async def _exchange(
        self, origin: Origin, host: _Host, data: bytes, connect_limit: float | None
    ) -> tuple[Connection, Head]:
        while (connection := self._take_idle(origin, host)) is not None:
            try:
                return connection, await connection.send(data)
            except (httpx.RemoteProtocolError, httpx.ReadError):
                connection.close()
                if connection.received_anything:
                    raise
                # The peer closed the idle connection as we used it: try a new one.
            except BaseException:
                connection.close()
                raise
        connection = await self._connect(origin, connect_limit)
        try:
            return connection, await connection.send(data)
        except BaseException:
            connection.close()
            raise

    async def _connect(self, origin: Origin, limit: float | None) -> Connection:
        """A new connection to ``origin``, resolved and checked, within ``limit`` seconds: the
        first of its addresses that accepts (and completes TLS, for https)."""
        scheme, hostname, port = origin
        failure: OSError | None = None
        try:
            async with asyncio.timeout(limit):
                for address in await self._resolver.addresses(hostname, port):
                    try:
                        return await self._open(address, port, hostname, scheme == b"https")
                    except OSError as exc:  # ssl.SSLError included
                        failure = exc
        except TimeoutError:
            raise httpx.ConnectTimeout(f"connecting to {hostname} timed out") from None
        assert failure is not None  # addresses() returns at least one address or raises
        raise httpx.ConnectError(str(failure) or type(failure).__name__) from failure

    async def _open(self, address: str, port: int, hostname: str, tls: bool) -> Connection:
        """Connect to the checked IP literal ``address``; TLS verifies ``hostname``."""
        loop = asyncio.get_running_loop()
        context = self._ssl_context if tls else None
        server_hostname = hostname if tls else None
        if self._socket_factory is None:
            _, connection = await loop.create_connection(
                Connection, address, port, ssl=context, server_hostname=server_hostname
            )
            return connection
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sockaddr = (address, port) if family == socket.AF_INET else (address, port, 0, 0)
        sock = self._socket_factory((family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr))
        try:
            await loop.sock_connect(sock, sockaddr)
            _, connection = await loop.create_connection(
                Connection, sock=sock, ssl=context, server_hostname=server_hostname
            )
        except BaseException:
            sock.close()
            raise
        return connection

    def _host(self, origin: Origin) -> _Host:
        host = self._hosts.get(origin)
        if host is None:
            host = self._hosts[origin] = _Host(self._per_host)
        return host

    def _take_idle(self, origin: Origin, host: _Host) -> Connection | None:
        """The origin's most recently used idle connection, if it is still open and fresh."""
        while host.idle:
            connection = host.idle.pop()
            if not host.idle:
                del self._idle[origin]
            if connection.closed or (
                time.monotonic() - connection.idle_since > self._keepalive_expiry
            ):
                connection.close()
                continue
            return connection
        return None

    def _finish(
        self, origin: Origin, host: _Host, connection: Connection | None, acquired: int
    ) -> None:
        """Hand back what a request held: its connection (kept if reusable), its slots."""
        if acquired >= 2:
            self._slots.release()
        if acquired >= 1:
            host.slots.release()
        host.active -= 1
        if connection is not None:
            if connection.reusable and not self._closed:
                connection.idle_since = time.monotonic()
                host.idle.append(connection)
                self._idle[origin] = host
                self._idle.move_to_end(origin)
                while len(self._idle) > self._max_idle_hosts:
                    self._drop_idle(*self._idle.popitem(last=False))
            else:
                connection.close()
        if not host.active and not host.idle and self._hosts.get(origin) is host:
            del self._hosts[origin]
        now = time.monotonic()
        if now - self._swept > 1.0:
            self._swept = now
            self._sweep(now)

    def _drop_idle(self, origin: Origin, host: _Host) -> None:
        """Close an origin's idle connections (it has left :attr:`_idle`)."""
        for connection in host.idle:
            connection.close()
        host.idle.clear()
        if not host.active and self._hosts.get(origin) is host:
            del self._hosts[origin]

    def _sweep(self, now: float) -> None:
        """Close the connections idle for longer than ``keepalive_expiry``."""
        for origin, host in list(self._idle.items()):
            fresh = [c for c in host.idle if now - c.idle_since <= self._keepalive_expiry]
            if len(fresh) == len(host.idle):
                continue
            for connection in host.idle:
                if connection not in fresh:
                    connection.close()
            host.idle[:] = fresh
            if not fresh:
                del self._idle[origin]
                self._drop_idle(origin, host)

    async def aclose(self) -> None:
        self._closed = True
        while self._idle:
            self._drop_idle(*self._idle.popitem(last=False))
        self._hosts.clear()
