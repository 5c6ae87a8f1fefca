"""The network layer under :class:`fedi.net.client.SafeClient`: address guard and connection pools.

The HTTP/1.1 work is aiohttp's. It is a well-kept library whose C parser and connection pool do
this job better than code we would write: httpx's own pool (httpcore and h11) spent more time per
signed delivery than the RSA signature itself (``bench/client_post.py``, ``bench/fanout.py``).
httpx stays the interface: :class:`AiohttpTransport` is an :class:`httpx.AsyncBaseTransport`, so
requests, ``httpx.Auth`` flows and streamed, capped bodies work as before.

* :class:`GuardedResolver` resolves the host name with the injected :data:`Resolver` and refuses
  the connection if **any** address is not public (SECURITY.md rule 27). aiohttp connects only to
  the addresses it returns, so a DNS answer cannot change between check and use (rebinding), and
  it resolves afresh for every new connection (no DNS cache). TLS still verifies and sends SNI for
  the host name.
* :class:`AiohttpTransport` caps connections in all and per origin, keeps idle connections alive
  for at most ``max_idle_hosts`` origins (the least recently used being closed first), and maps
  aiohttp's exceptions onto httpx's.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import socket
import ssl
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from ipaddress import ip_address
from typing import Any

import aiohttp
import anyio
import httpx
from aiohttp.abc import AbstractResolver, ResolveResult
from multidict import CIMultiDict
from yarl import URL

from fedi.net.errors import BlockedAddress, FetchTimeout, NetworkError
from fedi.net.urls import address_problem

__all__ = [
    "AiohttpTransport",
    "GuardedResolver",
    "Resolver",
    "SocketFactory",
    "system_resolver",
]

Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
"""Resolves ``(host, port)`` to IP address strings; raise ``OSError`` when the name is unknown."""

SocketFactory = Callable[[tuple[Any, ...]], socket.socket]
"""Makes the socket for one ``getaddrinfo``-style address (aiohttp's ``socket_factory``)."""


async def system_resolver(host: str, port: int) -> Sequence[str]:
    """Resolve ``host`` with the system resolver (in a worker thread), de-duplicated, in order."""
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: dict[str, None] = {}
    for _family, _type, _proto, _canon, sockaddr in infos:
        seen.setdefault(str(sockaddr[0]), None)
    return list(seen)


class GuardedResolver(AbstractResolver):
    """Resolve, check every address, hand aiohttp only checked IP literals (rule 27).

    ``allow_private`` skips the check (tests, or an operator's explicit choice) but still goes
    through ``resolver``, so tests can map ``*.test`` names to loopback. Resolving takes at most
    ``timeout`` seconds.
    """

    def __init__(self, resolver: Resolver, *, allow_private: bool, timeout: float) -> None:
        self._resolver = resolver
        self._allow_private = allow_private
        self._timeout = timeout

    async def addresses(self, host: str, port: int) -> list[str]:
        """Return the addresses to try for ``host``; raise :class:`BlockedAddress` if any is not
        public (unless private addresses are allowed) and :class:`NetworkError` if there are none.
        """
        try:
            literal = ip_address(host)
        except ValueError:
            try:
                async with asyncio.timeout(self._timeout):
                    addresses = [str(address) for address in await self._resolver(host, port)]
            except TimeoutError:
                raise FetchTimeout(f"resolving {host} timed out") from None
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

    def check_literal(self, host: str) -> None:
        """Raise :class:`BlockedAddress` if ``host`` is an IP literal that is not public (unless
        private addresses are allowed). aiohttp does not resolve literals: they are checked here.
        """
        if self._allow_private:
            return
        try:
            literal = ip_address(host)
        except ValueError:
            return
        problem = address_problem(literal.compressed)
        if problem is not None:
            raise BlockedAddress(f"{host} is a {problem} address")

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        # FetchError subclasses are not OSError: aiohttp lets them through unchanged.
        return [
            {
                "hostname": host,
                "host": address,
                "port": port,
                "family": socket.AF_INET6 if ":" in address else socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST | socket.AI_NUMERICSERV,
            }
            for address in await self.addresses(host, port)
        ]

    async def close(self) -> None:
        return None


# aiohttp's exceptions, most specific first, and the httpx ones that SafeClient expects.
_EXCEPTIONS: tuple[tuple[type[BaseException], type[httpx.TransportError]], ...] = (
    (aiohttp.ConnectionTimeoutError, httpx.ConnectTimeout),
    (aiohttp.SocketTimeoutError, httpx.ReadTimeout),
    (aiohttp.ServerTimeoutError, httpx.ReadTimeout),
    (aiohttp.ClientConnectorError, httpx.ConnectError),
    (aiohttp.ServerDisconnectedError, httpx.RemoteProtocolError),
    (aiohttp.ClientPayloadError, httpx.RemoteProtocolError),
    (aiohttp.ClientResponseError, httpx.RemoteProtocolError),
    (aiohttp.ClientOSError, httpx.NetworkError),
    (aiohttp.ClientError, httpx.TransportError),
)


@contextlib.contextmanager
def _httpx_exceptions() -> Iterator[None]:
    try:
        yield
    except aiohttp.ClientError as exc:
        for aiohttp_type, httpx_type in _EXCEPTIONS:
            if isinstance(exc, aiohttp_type):
                raise httpx_type(str(exc) or type(exc).__name__) from exc
        raise  # pragma: no cover - the last entry catches every ClientError


Origin = tuple[str, str, int | None]


class _Origins:
    """Which origins hold keep-alive connections, least recently used first.

    aiohttp pools idle connections without a bound on their number; this closes the idle ones of
    the oldest origins once more than ``max_idle`` origins have some. Only origins with no
    request in flight are evicted, so every connection closed is one that sits idle in aiohttp's
    pool, which drops closed connections when it next looks.
    """

    def __init__(self, max_idle: int) -> None:
        self._max_idle = max_idle
        self._connections: OrderedDict[Origin, set[Any]] = OrderedDict()
        self._busy: dict[Origin, int] = {}

    def start(self, origin: Origin) -> None:
        self._busy[origin] = self._busy.get(origin, 0) + 1
        if origin in self._connections:
            self._connections.move_to_end(origin)

    def finish(self, origin: Origin, protocol: Any) -> None:
        left = self._busy[origin] - 1
        if left:
            self._busy[origin] = left
        else:
            del self._busy[origin]
        if protocol is not None and not protocol.should_close:
            kept = self._connections.setdefault(origin, set())
            if len(kept) > 1:  # forget connections aiohttp or the peer closed since
                kept.difference_update([p for p in kept if not p.is_connected()])
            kept.add(protocol)
            self._connections.move_to_end(origin)
        self._evict()

    def _evict(self) -> None:
        excess = len(self._connections) - self._max_idle
        if excess <= 0:
            return
        for origin in list(self._connections)[: excess * 2]:
            if origin not in self._busy:
                for protocol in self._connections.pop(origin):
                    protocol.close()
                excess -= 1
                if not excess:
                    return


_PROTOCOL: contextvars.ContextVar[Any] = contextvars.ContextVar("fedi_net_protocol")


class _Request(aiohttp.ClientRequest):
    """Notes which connection a request goes out on, for :class:`_Origins` (aiohttp may hand the
    connection back to its pool before the response reaches us: an empty body).
    """

    async def send(self, conn: aiohttp.connector.Connection) -> aiohttp.ClientResponse:
        _PROTOCOL.set(conn.protocol)
        return await super().send(conn)


class _ResponseStream(httpx.AsyncByteStream):
    """aiohttp's body as httpx's stream; closing it gives the connection back (or closes it)."""

    def __init__(self, response: aiohttp.ClientResponse, done: Callable[[], None]) -> None:
        self._response = response
        self._done: Callable[[], None] | None = done

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _httpx_exceptions():
            async for chunk in self._response.content.iter_any():
                yield chunk

    async def aclose(self) -> None:
        # A body not read to its end makes aiohttp close the connection instead of keeping it.
        self._response.release()
        if self._done is not None:
            done, self._done = self._done, None
            done()


class AiohttpTransport(httpx.AsyncBaseTransport):
    """An httpx transport over one aiohttp connection pool behind a :class:`GuardedResolver`.

    At most ``max_connections`` connections in all and ``per_host_connections`` per origin; idle
    connections are kept ``keepalive_expiry`` seconds, for at most ``max_idle_hosts`` origins.
    HTTP/1.1 only. asyncio only (aiohttp's loop); the session is made on first use, in the
    running loop. ``socket_factory`` replaces socket creation (tests record where it connects).
    The connect timeout comes from the httpx ``timeout`` extension; reads are bounded by the
    caller's deadline (:class:`SafeClient` puts one around every request), not per read.
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
        self._max_connections = max_connections
        self._per_host = per_host_connections
        self._keepalive_expiry = keepalive_expiry
        self._socket_factory = socket_factory
        self._origins = _Origins(max_idle_hosts)
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: dict[float | None, aiohttp.ClientTimeout] = {}
        self._closed = False

    def _session_now(self) -> aiohttp.ClientSession:
        session = self._session
        if session is None or session.closed:
            connector = aiohttp.TCPConnector(
                resolver=self._resolver,
                use_dns_cache=False,
                ssl=self._ssl_context,
                limit=self._max_connections,
                limit_per_host=self._per_host,
                keepalive_timeout=self._keepalive_expiry,
                socket_factory=self._socket_factory,
            )
            session = self._session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False,  # httpx decodes, under the body cap
                trust_env=False,
                skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
                request_class=_Request,
            )
        return session

    def _timeout(self, request: httpx.Request) -> aiohttp.ClientTimeout:
        connect = request.extensions.get("timeout", {}).get("connect")
        timeout = self._timeouts.get(connect)
        if timeout is None:
            timeout = self._timeouts[connect] = aiohttp.ClientTimeout(
                total=None, sock_connect=connect
            )
        return timeout

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._closed:
            raise httpx.TransportError("transport is closed")
        url = request.url
        self._resolver.check_literal(url.host)
        body = await request.aread()
        origin: Origin = (url.scheme, url.host, url.port)
        session = self._session_now()
        self._origins.start(origin)
        _PROTOCOL.set(None)
        try:
            with _httpx_exceptions():
                response = await session.request(
                    request.method,
                    URL(str(url), encoded=True),
                    headers=CIMultiDict(request.headers.multi_items()),
                    data=body or None,
                    allow_redirects=False,
                    timeout=self._timeout(request),
                )
        except BaseException:
            self._origins.finish(origin, None)
            raise
        protocol = _PROTOCOL.get()
        return httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=_ResponseStream(response, lambda: self._origins.finish(origin, protocol)),
            extensions={"http_version": b"HTTP/1.1"},
        )

    async def aclose(self) -> None:
        self._closed = True
        session, self._session = self._session, None
        if session is not None:
            with anyio.CancelScope(shield=True):
                await session.close()
