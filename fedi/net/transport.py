"""The network under :class:`fedi.net.client.SafeClient`: aiohttp's client, behind the httpx
transport interface our requests and auth flows use.

aiohttp does the protocol and the connections: request framing, response parsing (status line
and each header at most :data:`MAX_FIELD` bytes, at most :data:`MAX_HEADERS` headers, so a head
is bounded by :data:`MAX_HEAD`), chunked bodies, interim ``100`` answers, keep-alive (a
connection is never reused when the peer sent bytes past the end of an answer, or closed it),
the per-origin and total caps on connections, ``CONNECT`` tunnels through a proxy for ``https``
(plain ``http`` goes to the proxy in absolute form) and TLS. Here:

* names are resolved by :class:`GuardedResolver`, which refuses any non-allowed address; aiohttp
  connects to exactly the addresses it returned (no DNS cache, so a rebinding answer is checked
  like any other). aiohttp does not resolve IP literals, nor, through a proxy, the target: those
  are checked here before each request. The proxy's own name is resolved unchecked (the
  operator chose it);
* bodies are not decompressed by aiohttp: :mod:`fedi.net.body` decodes and caps real bytes;
* redirects are not followed, cookies are not kept; a ``101`` answer is refused.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import AsyncIterator, Callable
from ipaddress import ip_address

import aiohttp
import httpx
from aiohttp.abc import AbstractResolver, ResolveResult

from fedi.net.errors import NetworkError
from fedi.net.resolver import GuardedResolver, Resolver

__all__ = ["MAX_FIELD", "MAX_HEAD", "MAX_HEADERS", "AiohttpTransport", "SocketFactory"]

MAX_FIELD = 8190
"""The most bytes the status line or one header line of an answer may take."""
MAX_HEADERS = 64
"""The most header lines an answer may have."""
MAX_HEAD = MAX_FIELD * (MAX_HEADERS + 1)
"""What bounds an answer's whole head (about 520 KiB)."""

SocketFactory = Callable[[tuple[int, int, int, str, tuple[object, ...]]], socket.socket]
"""Makes the socket for one address aiohttp connects to (tests record the addresses)."""


class _GuardedNames(AbstractResolver):
    """aiohttp's resolver: the guarded addresses of a name, the proxy's name unchecked."""

    def __init__(self, guard: GuardedResolver, resolver: Resolver, proxy_host: str | None) -> None:
        self._guard = guard
        self._resolver = resolver
        self._proxy_host = proxy_host

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if host == self._proxy_host:
            try:
                addresses = list(await self._resolver(host, port))
            except OSError as exc:
                raise NetworkError(f"cannot resolve proxy {host}") from exc
        else:
            addresses = await self._guard.addresses(host, port)
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address in addresses
        ]

    async def close(self) -> None:
        pass


class AiohttpTransport(httpx.AsyncBaseTransport):
    """Send an :class:`httpx.Request` with aiohttp; the answer's body streams, undecoded.

    The session is made on first use, inside the running event loop.
    """

    def __init__(
        self,
        guard: GuardedResolver,
        resolver: Resolver,
        *,
        ssl_context: ssl.SSLContext,
        max_connections: int,
        per_host_connections: int,
        keepalive_expiry: float,
        connect_timeout: float,
        proxy: str | None = None,
        socket_factory: SocketFactory | None = None,
    ) -> None:
        self._guard = guard
        self._resolver = resolver
        self._ssl_context = ssl_context
        self._max_connections = max_connections
        self._per_host_connections = per_host_connections
        self._keepalive_expiry = keepalive_expiry
        self._timeout = aiohttp.ClientTimeout(total=None, sock_connect=connect_timeout)
        self._proxy = proxy
        self._socket_factory = socket_factory
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        proxy_host = httpx.URL(self._proxy).host if self._proxy else None
        connector = aiohttp.TCPConnector(
            limit=self._max_connections,
            limit_per_host=self._per_host_connections,
            keepalive_timeout=self._keepalive_expiry,
            resolver=_GuardedNames(self._guard, self._resolver, proxy_host),
            use_dns_cache=False,
            ssl=self._ssl_context,
            socket_factory=self._socket_factory,
        )
        return aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,
            skip_auto_headers=("Accept", "Accept-Encoding", "User-Agent", "Content-Type"),
            max_line_size=MAX_FIELD,
            max_field_size=MAX_FIELD,
            max_headers=MAX_HEADERS,
            timeout=self._timeout,
            proxy=self._proxy,
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        if self._proxy is not None or _is_literal(host):
            await self._guard.addresses(host, request.url.port or _PORTS[request.url.scheme])
        if self._session is None:
            self._session = self._open()
        answer = await self._session.request(
            request.method,
            str(request.url),
            headers=request.headers.multi_items(),
            data=request.content or None,
            allow_redirects=False,
        )
        if answer.status < 200:  # a 101: nothing asked to switch protocols
            answer.close()
            raise NetworkError(f"bad response: unexpected status {answer.status}")
        return httpx.Response(
            answer.status,
            headers=answer.raw_headers,
            stream=_Body(answer),
            request=request,
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


_PORTS = {"http": 80, "https": 443}


def _is_literal(host: str) -> bool:
    try:
        ip_address(host)
    except ValueError:
        return False
    return True


class _Body(httpx.AsyncByteStream):
    """An aiohttp answer's body as it arrives; closing releases the connection (closed, not
    pooled, when the body was not read to its end)."""

    def __init__(self, answer: aiohttp.ClientResponse) -> None:
        self._answer = answer

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._answer.content.iter_any():
            yield chunk

    async def aclose(self) -> None:
        self._answer.release()
