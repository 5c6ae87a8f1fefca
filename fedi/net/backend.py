"""The network under httpcore: connections only to addresses that were resolved and checked.

httpcore asks its network backend for a TCP stream to ``(host, port)``. :class:`GuardedBackend`
resolves the name itself with the :class:`GuardedResolver` (which refuses a name if any of its
addresses is not allowed, SECURITY.md rule 27) and hands the inner backend only those checked IP
literals, so the name is never resolved a second time: a DNS answer that changes between the
check and the connection (rebinding) cannot take the request elsewhere. httpcore then starts TLS
on the stream with the host *name* (SNI and certificate verification), and ``Host`` is the name.

The outgoing proxy (``FEDI_HTTP_PROXY``) is the one origin connected to without the check: the
operator chose it. The targets reached through it are still checked by name (:meth:`check`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import httpcore

from fedi.net.resolver import GuardedResolver
from fedi.net.stream import AsyncioBackend

__all__ = ["GuardedBackend"]


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolve and check, then connect with ``inner`` (:mod:`fedi.net.stream` by default) to
    the first checked address that accepts. ``proxy`` is the ``(host, port)`` of the outgoing
    proxy, connected to as configured. Resolving and connecting share the connect timeout.
    """

    def __init__(
        self,
        resolver: GuardedResolver,
        *,
        inner: httpcore.AsyncNetworkBackend | None = None,
        proxy: tuple[str, int] | None = None,
    ) -> None:
        self._resolver = resolver
        self._inner = inner or AsyncioBackend()
        self._proxy = proxy

    async def check(self, host: str, port: int) -> None:
        """Refuse ``host`` as :meth:`connect_tcp` would, without connecting (a proxied target)."""
        await self._resolver.addresses(host, port)

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                if (host, port) == self._proxy:
                    addresses = [host]
                else:
                    addresses = await self._resolver.addresses(host, port)
                failure: httpcore.ConnectError | None = None
                for address in addresses:
                    try:
                        return await self._inner.connect_tcp(
                            address, port, None, local_address, socket_options
                        )
                    except httpcore.ConnectError as exc:
                        failure = exc
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"connecting to {host} timed out") from None
        assert failure is not None  # addresses() returns at least one address or raises
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.UnsupportedProtocol("no unix sockets for federation")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
