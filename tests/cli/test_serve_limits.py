"""``fedi serve`` facing clients directly: slow clients, oversized heads, too many connections.

A real ``fedi serve`` in a child process, on loopback, with a 2-second receive deadline, over
plain HTTP and over TLS.
"""

from __future__ import annotations

import os
import select
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from fedi.testing.tls import make_test_ca

RECEIVE_TIMEOUT = 2
MAX_CONNECTIONS = 30


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Server:
    port: int
    tls: ssl.SSLContext | None  # how a client trusts it, when it serves TLS

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def get(self, path: str, *, timeout: float = 5.0) -> httpx.Response:
        return httpx.get(self.url + path, verify=self.tls or True, timeout=timeout)

    def connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        return self.tls.wrap_socket(sock, server_hostname="localhost") if self.tls else sock


@pytest.fixture(scope="module", params=["http", "https"])
def server(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Server]:
    directory: Path = tmp_path_factory.mktemp("serve")
    port = _free_port()
    environ = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FEDI_")},
        "FEDI_DATA_DIR": str(directory),
        "FEDI_PORT": str(port),
        "FEDI_RECEIVE_TIMEOUT": str(RECEIVE_TIMEOUT),
        "FEDI_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
    }
    tls = None
    if request.param == "https":
        ca = make_test_ca(directory / "tls")
        environ.update(FEDI_TLS_CERT=str(ca.cert_path), FEDI_TLS_KEY=str(ca.key_path))
        tls = ssl.create_default_context(cafile=str(ca.ca_cert_path))
    running = Server(port, tls)
    fedi = [sys.executable, "-m", "fedi"]
    subprocess.run([*fedi, "migrate"], env=environ, check=True, capture_output=True, timeout=60)
    process = subprocess.Popen(
        [*fedi, "serve"], env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if running.get("/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("fedi serve did not answer /healthz within 30 s")
                time.sleep(0.1)
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _read_until_closed(sock: socket.socket, limit: float = 5.0) -> bytes:
    """Everything the server sends until it closes the connection (fails after ``limit`` s)."""
    received = b""
    sock.settimeout(limit)
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return received
        received += chunk


def test_clients_trickling_headers_or_bodies_are_cut_off_at_the_deadline(server: Server) -> None:
    heads = [server.connect() for _ in range(5)]
    bodies = [server.connect() for _ in range(5)]
    for sock in heads:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
    for sock in bodies:
        sock.sendall(
            b"POST /inbox HTTP/1.1\r\nHost: localhost\r\n"
            b"Content-Type: application/activity+json\r\nContent-Length: 1000\r\n\r\n{"
        )
    started = time.monotonic()
    open_sockets = {sock: b"" for sock in heads + bodies}
    closed_after: dict[socket.socket, float] = {}
    while open_sockets and time.monotonic() - started < RECEIVE_TIMEOUT + 3:
        for sock in list(open_sockets):
            try:
                sock.sendall(b"a")  # one byte every quarter of a second: never done
            except OSError:
                closed_after[sock] = time.monotonic() - started
                del open_sockets[sock]
        readable, _, _ = select.select(list(open_sockets), [], [], 0.25)
        for sock in readable:
            try:
                chunk = sock.recv(65536)
            except OSError:
                chunk = b""
            if chunk:
                open_sockets[sock] += chunk
            else:
                closed_after[sock] = time.monotonic() - started
                answer = open_sockets.pop(sock)
                assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert not open_sockets, f"{len(open_sockets)} of 10 still open"
    assert all(
        RECEIVE_TIMEOUT - 0.5 < after < RECEIVE_TIMEOUT + 2 for after in closed_after.values()
    )
    for sock in heads + bodies:
        sock.close()
    assert server.get("/healthz").status_code == 200


def test_an_idle_connection_is_closed_at_the_deadline(server: Server) -> None:
    with server.connect() as sock:
        started = time.monotonic()
        answer = _read_until_closed(sock, limit=RECEIVE_TIMEOUT + 3)
        assert answer.startswith(b"HTTP/1.1 408 ")
        assert time.monotonic() - started < RECEIVE_TIMEOUT + 2


@pytest.mark.parametrize("pieces", [1, 20], ids=["at-once", "trickled"])
def test_an_oversized_head_gets_431_and_a_closed_connection(server: Server, pieces: int) -> None:
    head = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"a" * 40_000 + b"\r\n\r\n"
    with server.connect() as sock:
        size = len(head) // pieces + 1
        try:
            for start in range(0, len(head), size):
                sock.sendall(head[start : start + size])
        except OSError:
            pass  # closed by the server before the rest was sent
        answer = _read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:100]


def test_a_large_but_allowed_head_and_keep_alive_still_work(server: Server) -> None:
    with httpx.Client(base_url=server.url, verify=server.tls or True) as client:
        for _ in range(3):  # one connection, kept alive
            response = client.get("/healthz", headers={"X-Big": "a" * 20_000})
            assert response.status_code == 200


def test_connections_past_the_limit_are_answered_503(server: Server) -> None:
    idle = [server.connect() for _ in range(MAX_CONNECTIONS)]
    try:
        with server.connect() as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            assert _read_until_closed(sock).startswith(b"HTTP/1.1 503 ")
    finally:
        for sock in idle:
            sock.close()
    # The idle ones are gone; the next request is served (once the server has seen them go).
    deadline = time.monotonic() + 5
    while server.get("/healthz").status_code != 200:
        assert time.monotonic() < deadline
        time.sleep(0.05)
