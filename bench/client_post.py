"""Deliveries per second: ``SafeClient.post`` against a plain ``httpx.AsyncClient``, same run.

Not a test. Starts a uvicorn sink (202 to everything) on 127.0.0.1 in a child process, then POSTs
one small activity to each of ``--hosts`` distinct host names (``inbox-N.bench.test``), all mapped
to the sink by an injected resolver, with ``--concurrency`` workers. Each round uses a fresh client
("cold": every delivery opens a connection, as a fan-out to distinct inboxes does) and then
repeats the same deliveries on that client ("warm": keep-alive reuse). Unsigned and signed
(draft-cavage, RSA-2048, ``fedi.net.auth.SignatureAuth``) variants; the machine's signing rate
is measured first, as the ceiling a signed delivery loop can reach on one core.

    .venv/bin/python -m bench.client_post --hosts 1000 --concurrency 100 --rounds 3 [--uvloop]

Plain httpx is slow enough here that a full run takes several minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import httpcore
import httpx

from fedi.crypto import sign_cavage
from fedi.crypto.keys import generate_rsa_key
from fedi.net import LOOPBACK_NETWORKS, FetchPolicy, SafeClient
from fedi.net.auth import SignatureAuth

SINK = """
import sys, uvicorn

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 202, "headers": []})
    await send({"type": "http.response.body", "body": b""})

uvicorn.run(app, fd=int(sys.argv[1]), log_level="warning", access_log=False,
            loop="uvloop", http="httptools", lifespan="off", backlog=4096)
"""

BODY = b'{"@context":"https://www.w3.org/ns/activitystreams","type":"Create","id":"https://a.example/1"}'
KEY_ID = "https://bench.example/users/bench#main-key"


def start_sink() -> tuple[subprocess.Popen[bytes], int]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(4096)
    port = sock.getsockname()[1]
    child = subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", SINK, str(sock.fileno())], pass_fds=[sock.fileno()]
    )
    sock.close()
    deadline = time.monotonic() + 15
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as probe:
                probe.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
                if probe.recv(64).startswith(b"HTTP/1.1 202"):
                    return child, port
        except OSError:
            if time.monotonic() > deadline:
                child.kill()
                raise
            time.sleep(0.05)


async def to_sink(host: str, port: int) -> Sequence[str]:
    return ["127.0.0.1"]


class SinkBackend(httpcore.AnyIOBackend):
    """Gives plain httpx the same name mapping as the injected resolver, and nothing else."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return await super().connect_tcp("127.0.0.1", port, timeout, local_address, socket_options)


def plain_httpx(limits: httpx.Limits | None = None) -> httpx.AsyncClient:
    client = httpx.AsyncClient(limits=limits or httpx.Limits(), timeout=30.0, trust_env=False)
    client._transport._pool._network_backend = SinkBackend()  # type: ignore[attr-defined]
    return client


async def deliver_all(
    post: Callable[[str], Awaitable[int]], urls: Sequence[str], concurrency: int
) -> float:
    """POST to every URL with ``concurrency`` workers; deliveries per second."""
    queue = iter(urls)
    failures: list[int] = []

    async def worker() -> None:
        for url in queue:
            status = await post(url)
            if status != 202:
                failures.append(status)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{len(failures)} deliveries failed: {failures[:5]}")
    return len(urls) / elapsed


def signing_rate(auth_key: Any, seconds: float = 1.0) -> float:
    headers = {"host": "inbox-1.bench.test", "content-type": "application/activity+json"}
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        sign_cavage(
            "POST",
            "https://inbox-1.bench.test/inbox",
            headers,
            BODY,
            KEY_ID,
            auth_key,
            datetime.now(UTC),
        )
        count += 1
    return count / (time.perf_counter() - started)


async def run_round(
    name: str, make: Callable[[], Any], urls: Sequence[str], concurrency: int, auth: Any
) -> tuple[float, float]:
    client = make()
    if isinstance(client, SafeClient):

        async def post(url: str) -> int:
            return (await client.post(url, BODY, auth=auth)).status

    else:
        headers = {"Content-Type": "application/activity+json"}

        async def post(url: str) -> int:
            response = await client.post(url, content=BODY, headers=headers, auth=auth)
            status: int = response.status_code
            return status

    try:
        cold = await deliver_all(post, urls, concurrency)
        warm = await deliver_all(post, urls, concurrency)
    finally:
        await client.aclose()
    return cold, warm


def report(name: str, figures: Iterable[tuple[float, float]], ceiling: float | None) -> None:
    colds, warms = zip(*figures, strict=True)
    cold, warm = statistics.median(colds), statistics.median(warms)
    share = f"  ({cold / ceiling:.2f}x / {warm / ceiling:.2f}x signing rate)" if ceiling else ""
    print(f"{name:<38} cold {cold:7.0f}/s   warm {warm:7.0f}/s{share}", flush=True)


async def main(args: argparse.Namespace) -> None:
    child, port = start_sink()
    try:
        urls = [f"http://inbox-{n}.bench.test:{port}/inbox" for n in range(args.hosts)]
        policy = FetchPolicy(
            user_agent="fedi-bench/1.0", private_networks=LOOPBACK_NETWORKS, allow_http=True
        )
        key = generate_rsa_key()
        auth = SignatureAuth(KEY_ID, key)
        rate = signing_rate(key)
        loop = "uvloop" if args.uvloop else "asyncio"
        print(
            f"{args.hosts} distinct hosts, concurrency {args.concurrency}, "
            f"{args.rounds} rounds (median), {loop}"
        )
        print(f"RSA-2048 draft-cavage signing rate (one core): {rate:.0f}/s", flush=True)
        contenders: list[tuple[str, Callable[[], Any]]] = [
            ("SafeClient.post", lambda: SafeClient(policy, resolver=to_sink)),
            ("httpx.AsyncClient (defaults)", plain_httpx),
            (
                "httpx.AsyncClient (Limits 256/256)",
                lambda: plain_httpx(
                    httpx.Limits(max_connections=256, max_keepalive_connections=256)
                ),
            ),
        ]
        for signed in (False, True):
            for name, make in contenders:
                figures = [
                    await run_round(name, make, urls, args.concurrency, auth if signed else None)
                    for _ in range(args.rounds)
                ]
                report(f"{name}{' signed' if signed else ''}", figures, rate if signed else None)
    finally:
        child.terminate()
        child.wait(timeout=10)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--uvloop", action="store_true", help="run the clients on uvloop")
    arguments = parser.parse_args()
    if arguments.uvloop:
        import uvloop

        uvloop.run(main(arguments))
    else:
        asyncio.run(main(arguments))
