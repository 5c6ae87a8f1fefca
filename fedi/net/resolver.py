"""Name resolution for outgoing connections, with the address guard of SECURITY.md rule 27.

:class:`GuardedResolver` resolves a host name with the injected :data:`Resolver` and refuses the
connection if **any** address is not public. The transport connects only to the addresses it
returns (:mod:`fedi.net.transport`), so a DNS answer cannot change between check
and use (rebinding), and it resolves afresh for every new connection (no DNS cache).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Sequence
from ipaddress import IPv4Address, IPv6Address, ip_address

import anyio

from fedi.net.errors import BlockedAddress, FetchTimeout, NetworkError
from fedi.net.urls import IPNetwork, connect_problem

__all__ = ["GuardedResolver", "Resolver", "system_resolver"]

Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
"""Resolves ``(host, port)`` to IP address strings; raise ``OSError`` when the name is unknown."""


async def system_resolver(host: str, port: int) -> Sequence[str]:
    """Resolve ``host`` with the system resolver (in a worker thread), de-duplicated, in order."""
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: dict[str, None] = {}
    for _family, _type, _proto, _canon, sockaddr in infos:
        seen.setdefault(str(sockaddr[0]), None)
    return list(seen)


class GuardedResolver:
    """Resolve, then check every address (rule 27).

    ``private_networks`` are the non-public networks the operator lets requests reach
    (``FEDI_ALLOW_PRIVATE_ADDRESSES``; tests allow loopback and map ``*.test`` names to it
    through ``resolver``); link-local and metadata addresses stay refused whatever they say.
    Resolving takes at most ``timeout`` seconds. IP literals are not resolved, only checked.
    """

    def __init__(
        self, resolver: Resolver, *, private_networks: tuple[IPNetwork, ...], timeout: float
    ) -> None:
        self._resolver = resolver
        self._private_networks = private_networks
        self._timeout = timeout

    async def addresses(self, host: str, port: int) -> list[str]:
        """Return the addresses to try for ``host``; raise :class:`BlockedAddress` if any is
        neither public nor in an allowed network, and :class:`NetworkError` if there are none.
        """
        literal: IPv4Address | IPv6Address | None
        try:
            literal = ip_address(host)
        except ValueError:
            literal = None
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
        for address in addresses:
            problem = connect_problem(address, self._private_networks)
            if problem is not None:
                verb = "resolves to" if literal is None else "is"
                raise BlockedAddress(f"{host} {verb} a {problem} address")
        return addresses
