"""``FEDI_HTTP_PROXY``: every request goes through an HTTP proxy (``https`` in a CONNECT tunnel,
plain ``http`` in absolute form), against a real proxy and a real peer on loopback. The targets
are still checked by name before the proxy is asked."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from fedi.net import (
    LOOPBACK_NETWORKS,
    BlockedAddress,
    FetchPolicy,
    NetworkError,
    Resolver,
    SafeClient,
)
from fedi.testing.server import run_server
from fedi.testing.tls import make_test_ca
from tests.net.peer import Peer

POLICY = FetchPolicy(
    user_agent="fedi-test/1.0", private_networks=LOOPBACK_NETWORKS, allow_http=True
)


class ConnectProxy:
    """Opens a tunnel for each ``CONNECT host:port`` to that port on 127.0.0.1 (its own idea of
    where every name is), or refuses every tunnel with ``refuse``; forwards each absolute-form
    ``http`` request there too."""

    def __init__(self, refuse: int | None = None) -> None:
        self.tunnels: list[str] = []
        self.refuse = refuse
        self.server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                method, target, _version = head.split(b"\r\n", 1)[0].decode().split(" ")
                self.tunnels.append(f"{method} {target}")
                if method != "CONNECT":
                    await self._forward(head, target, reader, writer)
                    continue
                if self.refuse is not None:
                    status = self.refuse
                    writer.write(b"HTTP/1.1 %d No\r\nContent-Length: 0\r\n\r\n" % status)
                    return
                upstream_reader, upstream_writer = await asyncio.open_connection(
                    "127.0.0.1", int(target.rsplit(":", 1)[1])
                )
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                await asyncio.gather(
                    self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer)
                )
                return
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    @staticmethod
    async def _forward(
        head: bytes, target: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """One absolute-form request, sent on in origin form; its answer relayed back."""
        url = urlsplit(target)
        first, rest = head.split(b"\r\n", 1)
        method = first.split(b" ", 1)[0]
        path = (url.path or "/") + (f"?{url.query}" if url.query else "")
        body = await reader.readexactly(_length(rest))
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", url.port)
        upstream_writer.write(method + b" " + path.encode() + b" HTTP/1.1\r\n" + rest + body)
        answer = await upstream_reader.readuntil(b"\r\n\r\n")
        answer += await upstream_reader.readexactly(_length(answer))
        upstream_writer.close()
        writer.write(answer)
        await writer.drain()

    @staticmethod
    async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while chunk := await source.read(65536):
                sink.write(chunk)
                await sink.drain()
        except ConnectionError:
            pass
        finally:
            sink.close()


def _length(head: bytes) -> int:
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":", 1)[1])
    return 0


@pytest.fixture
async def proxy() -> AsyncIterator[ConnectProxy]:
    running = ConnectProxy()
    running.server = await asyncio.start_server(running.handle, "127.0.0.1", 0)
    yield running
    running.server.close()


@pytest.fixture(scope="module")
def peer_port() -> Iterator[int]:
    with run_server(Peer().app) as base:
        yield int(base.rsplit(":", 1)[1])


def resolver(table: dict[str, str]) -> Resolver:
    async def resolve(host: str, port: int) -> Sequence[str]:
        if host in table:
            return [table[host]]
        raise OSError(f"unknown host {host}")

    return resolve


async def test_fetches_and_deliveries_go_through_the_proxy(
    proxy: ConnectProxy, peer_port: int
) -> None:
    names = resolver({"peer.test": "127.0.0.1"})
    async with SafeClient(replace(POLICY, proxy=proxy.url), resolver=names) as client:
        document = await client.fetch_json(f"http://peer.test:{peer_port}/doc/1")
        result = await client.post(f"http://peer.test:{peer_port}/inbox", b"{}")
    assert document.data["id"] == f"http://peer.test:{peer_port}/doc/1"
    assert result.status == 202
    assert proxy.tunnels == [
        f"GET http://peer.test:{peer_port}/doc/1",
        f"POST http://peer.test:{peer_port}/inbox",
    ]


async def test_the_proxy_is_reached_though_loopback_is_not_allowed(
    proxy: ConnectProxy, peer_port: int
) -> None:
    # The operator chose the proxy: its own address is not checked, the target's is.
    names = resolver({"public.example": "93.184.215.14"})
    policy = replace(POLICY, private_networks=(), proxy=proxy.url)
    async with SafeClient(policy, resolver=names) as client:
        document = await client.fetch_json(f"http://public.example:{peer_port}/doc/2")
    assert document.url == f"http://public.example:{peer_port}/doc/2"


async def test_a_private_target_is_refused_before_the_proxy_is_asked(
    proxy: ConnectProxy, peer_port: int
) -> None:
    names = resolver({"evil.example": "10.0.0.1"})
    policy = replace(POLICY, private_networks=(), proxy=proxy.url)
    async with SafeClient(policy, resolver=names) as client:
        with pytest.raises(BlockedAddress):
            await client.fetch_json(f"http://evil.example:{peer_port}/doc")
        with pytest.raises(BlockedAddress):
            await client.post(f"http://169.254.169.254:{peer_port}/inbox", b"{}")
    assert proxy.tunnels == []


async def test_a_refused_tunnel_is_a_network_error(peer_port: int) -> None:
    refusing = ConnectProxy(refuse=403)
    refusing.server = await asyncio.start_server(refusing.handle, "127.0.0.1", 0)
    names = resolver({"peer.test": "127.0.0.1"})
    try:
        async with SafeClient(replace(POLICY, proxy=refusing.url), resolver=names) as client:
            with pytest.raises(NetworkError, match="403"):
                await client.post(f"https://peer.test:{peer_port}/inbox", b"{}")
    finally:
        refusing.server.close()


async def test_tls_through_the_tunnel_trusts_the_ca_bundle(
    proxy: ConnectProxy, tmp_path: Path
) -> None:
    ca = make_test_ca(tmp_path)
    names = resolver({"localhost": "127.0.0.1"})
    with run_server(Peer().app, ssl_certfile=ca.cert_path, ssl_keyfile=ca.key_path) as base:
        port = int(base.rsplit(":", 1)[1])
        trusting = replace(POLICY, proxy=proxy.url, ca_bundle=ca.ca_cert_path)
        async with SafeClient(trusting, resolver=names) as client:
            document = await client.fetch_json(f"https://localhost:{port}/doc")
        assert document.url == f"https://localhost:{port}/doc"
        async with SafeClient(replace(POLICY, proxy=proxy.url), resolver=names) as client:
            with pytest.raises(NetworkError):
                await client.fetch_json(f"https://localhost:{port}/doc")
    assert proxy.tunnels == [f"CONNECT localhost:{port}"] * 2
