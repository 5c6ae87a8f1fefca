"""The network layer under :class:`fedi.net.client.SafeClient`: address guard and connection pools.

* :class:`GuardedBackend` is an httpcore network backend that resolves the host name itself, refuses
  the connection if **any** resolved address is not public (SECURITY.md rule 27), and then connects
  to the checked IP literal, so a DNS answer cannot change between check and use (rebinding). TLS
  still verifies and sends SNI for the host name: httpcore takes those from the request's origin.
* :class:`PooledTransport` is an httpx transport with one small httpcore pool per origin. httpcore's
  single pool re-scans every connection and every queued request on each request, which makes a
  fan-out to 1,000 distinct inboxes quadratic; per-origin pools keep that scan to a handful of
  connections. A global semaphore caps open requests, and idle pools are evicted least recently
  used first.
* :class:`AsyncioStream` carries the bytes on asyncio directly (anyio's streams elsewhere).

Measured with ``bench/client_post.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from ipaddress import ip_address
from typing import Any

import anyio
import httpcore
import httpx
import sniffio

from fedi.net.errors import BlockedAddress, NetworkError
from fedi.net.urls import address_problem

__all__ = ["GuardedBackend", "PooledTransport", "Resolver", "system_resolver"]

Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
"""Resolves ``(host, port)`` to IP address strings; raise ``OSError`` when the name is unknown."""


async def system_resolver(host: str, port: int) -> Sequence[str]:
    """Resolve ``host`` with the system resolver (in a worker thread), de-duplicated, in order."""
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: dict[str, None] = {}
    for _family, _type, _proto, _canon, sockaddr in infos:
        seen.setdefault(str(sockaddr[0]), None)
    return list(seen)


class AsyncioStream(httpcore.AsyncNetworkStream):
    """An httpcore stream straight over asyncio's streams.

    anyio's stream (httpcore's default) costs several cancel scopes and checkpoints per read and
    write; on a fan-out of signed deliveries that overhead outweighed the RSA signing itself
    (see ``bench/client_post.py``). Used whenever the event loop is asyncio.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        try:
            async with asyncio.timeout(timeout):
                return await self._reader.read(max_bytes)
        except TimeoutError:
            raise httpcore.ReadTimeout("read timed out") from None
        except OSError as exc:
            raise httpcore.ReadError(str(exc) or type(exc).__name__) from exc

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # noqa: ASYNC109
        if not buffer:
            return
        try:
            self._writer.write(buffer)
            async with asyncio.timeout(timeout):
                await self._writer.drain()
        except TimeoutError:
            raise httpcore.WriteTimeout("write timed out") from None
        except (OSError, RuntimeError) as exc:  # RuntimeError: write on a closing transport
            raise httpcore.WriteError(str(exc) or type(exc).__name__) from exc

    async def aclose(self) -> None:
        self._writer.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                await self._writer.start_tls(ssl_context, server_hostname=server_hostname)
        except TimeoutError:
            self._writer.close()
            raise httpcore.ConnectTimeout("tls handshake timed out") from None
        except (OSError, ssl.SSLError, ConnectionError) as exc:
            self._writer.close()
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        return self

    def get_extra_info(self, info: str) -> Any:
        if info == "ssl_object":
            return self._writer.get_extra_info("ssl_object")
        if info == "client_addr":
            return self._writer.get_extra_info("sockname")
        if info == "server_addr":
            return self._writer.get_extra_info("peername")
        if info == "socket":
            return self._writer.get_extra_info("socket")
        if info == "is_readable":
            # httpcore asks before reusing an idle keep-alive connection: one the peer closed (or
            # broke) must be dropped instead.
            return (
                self._reader.at_eof()
                or self._reader.exception() is not None
                or self._writer.is_closing()
            )
        return None


async def _open_asyncio(host: str, port: int, within: float | None) -> AsyncioStream:
    try:
        async with asyncio.timeout(within):
            reader, writer = await asyncio.open_connection(host, port, limit=2**16)
    except TimeoutError:
        raise httpcore.ConnectTimeout(f"connecting to {host} timed out") from None
    except OSError as exc:
        raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
    return AsyncioStream(reader, writer)


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolve, check every address, connect to a checked IP (rule 27).

    ``allow_private`` skips the check (tests, or an operator's explicit choice) but still goes
    through ``resolver``, so tests can map ``*.test`` names to loopback. ``inner`` is the backend
    that connects to the checked IP literal: by default asyncio's own streams on asyncio
    (:class:`AsyncioStream`), anyio's elsewhere.
    """

    def __init__(
        self,
        resolver: Resolver,
        *,
        allow_private: bool,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self._resolver = resolver
        self._allow_private = allow_private
        self._inner = inner
        self._anyio = httpcore.AnyIOBackend()

    async def resolve(self, host: str, port: int) -> list[str]:
        """Return the addresses to try for ``host``; raise :class:`BlockedAddress` if any is not
        public (unless private addresses are allowed) and :class:`NetworkError` if there are none.
        """
        try:
            literal = ip_address(host)
        except ValueError:
            try:
                addresses = [str(address) for address in await self._resolver(host, port)]
            except OSError as exc:
                raise NetworkError(f"cannot resolve {host}") from exc
        else:
            addresses = [literal.compressed]
        if not addresses:
            raise NetworkError(f"no address for {host}")
        if not self._allow_private:
            for address in addresses:
                problem = address_problem(address)
                if problem is not None:
                    raise BlockedAddress(f"{host} resolves to a {problem} address")
        return addresses

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            with anyio.fail_after(timeout):
                addresses = await self.resolve(host, port)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from None
        failure: Exception | None = None
        use_asyncio = self._inner is None and sniffio.current_async_library() == "asyncio"
        for address in addresses:
            try:
                if use_asyncio and local_address is None and not socket_options:
                    return await _open_asyncio(address, port, timeout)
                inner = self._inner if self._inner is not None else self._anyio
                return await inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise NetworkError("unix sockets are not used for federation")

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(seconds)


# httpcore exceptions, most specific first, and the httpx ones that httpx.AsyncClient expects.
_EXCEPTIONS: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.NetworkError, httpx.NetworkError),
)


@contextlib.contextmanager
def _httpx_exceptions() -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        for core_type, httpx_type in _EXCEPTIONS:
            if isinstance(exc, core_type):
                raise httpx_type(str(exc) or type(exc).__name__) from exc
        raise


class _ResponseStream(httpx.AsyncByteStream):
    """Wraps httpcore's stream: maps exceptions and releases the global slot once closed."""

    def __init__(self, stream: Any, release: Callable[[], None]) -> None:
        self._stream = stream
        self._release: Callable[[], None] | None = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _httpx_exceptions():
            async for chunk in self._stream:
                yield chunk

    async def aclose(self) -> None:
        try:
            with _httpx_exceptions():
                await self._stream.aclose()
        finally:
            if self._release is not None:
                release, self._release = self._release, None
                release()


OriginKey = tuple[bytes, bytes, int | None]


class PooledTransport(httpx.AsyncBaseTransport):
    """An httpx transport over per-origin httpcore pools sharing one :class:`GuardedBackend`.

    ``max_connections`` bounds requests in flight (their connections included); each origin has at
    most ``per_host_connections``; at most ``max_idle_hosts`` origins keep idle keep-alive
    connections, the least recently used being closed first. HTTP/1.1 only: federation traffic
    is one request per peer at a time, where HTTP/2's set-up buys nothing.
    """

    def __init__(
        self,
        backend: GuardedBackend,
        *,
        ssl_context: ssl.SSLContext,
        max_connections: int,
        per_host_connections: int,
        max_idle_hosts: int,
        keepalive_expiry: float,
    ) -> None:
        self._backend = backend
        self._ssl_context = ssl_context
        self._per_host = per_host_connections
        self._max_idle_hosts = max_idle_hosts
        self._keepalive_expiry = keepalive_expiry
        self._slots = anyio.Semaphore(max_connections)
        self._pools: OrderedDict[OriginKey, httpcore.AsyncConnectionPool] = OrderedDict()
        self._closed = False

    def _pool_for(self, key: OriginKey) -> tuple[httpcore.AsyncConnectionPool, bool]:
        pool = self._pools.get(key)
        if pool is not None:
            self._pools.move_to_end(key)
            return pool, False
        pool = httpcore.AsyncConnectionPool(
            ssl_context=self._ssl_context,
            max_connections=self._per_host,
            max_keepalive_connections=self._per_host,
            keepalive_expiry=self._keepalive_expiry,
            http1=True,
            http2=False,
            network_backend=self._backend,
        )
        self._pools[key] = pool
        return pool, True

    def _evictable(self, keep: OriginKey) -> list[httpcore.AsyncConnectionPool]:
        """Take idle pools, oldest first, until at most ``max_idle_hosts`` remain (bounded scan)."""
        excess = len(self._pools) - self._max_idle_hosts
        if excess <= 0:
            return []
        evicted: list[httpcore.AsyncConnectionPool] = []
        for key, pool in list(self._pools.items())[: excess * 2]:
            # A connection still connecting is neither idle nor closed, so busy pools stay.
            if key != keep and all(c.is_idle() or c.is_closed() for c in pool.connections):
                del self._pools[key]
                evicted.append(pool)
                if len(evicted) >= excess:
                    break
        return evicted

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._closed:
            raise httpx.TransportError("transport is closed")
        url = request.url
        assert isinstance(request.stream, httpx.AsyncByteStream)
        key: OriginKey = (url.raw_scheme, url.raw_host, url.port)
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        await self._slots.acquire()
        try:
            pool, created = self._pool_for(key)
            if created:
                for old in self._evictable(keep=key):
                    with anyio.CancelScope(shield=True):
                        await old.aclose()
            with _httpx_exceptions():
                response = await pool.handle_async_request(core_request)
        except BaseException:
            self._slots.release()
            raise
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_ResponseStream(response.stream, self._slots.release),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        self._closed = True
        pools, self._pools = list(self._pools.values()), OrderedDict()
        with anyio.CancelScope(shield=True):
            for pool in pools:
                await pool.aclose()
