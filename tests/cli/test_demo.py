"""``fedi demo`` as a new user runs it: three networks start, each prints its URL and an admin
login that signs in, each holds its seeded offers, experiences and discussions, and partner
search on any one finds the offers of all three; SIGTERM (as Ctrl-C) stops every server; a
second run starts the same networks without seeding them twice."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from fedi.cli.demo_content import NETWORKS
from fedi.web.csrf import CSRF_COOKIE

READY_WITHIN = 60.0  # seconds: "a new user can search all three within a minute of start"
LINE = re.compile(r"^(?P<name>.+): (?P<url>http://localhost:\d+)  \(login (?P<login>\w+), "
                  r"password (?P<password>\S+)\)$")  # fmt: skip


def _free_ports(count: int) -> int:
    """The first of ``count`` consecutive free loopback ports."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            first = int(probe.getsockname()[1])
        if first + count > 65535:
            continue
        sockets = []
        try:
            for port in range(first, first + count):
                taken = socket.socket()
                sockets.append(taken)
                taken.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            for taken in sockets:
                taken.close()
        return first
    raise RuntimeError("no free ports")


@contextmanager
def _demo(directory: Path, port: int) -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("FEDI_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "fedi", "demo", "--dir", str(directory), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    lines: list[str] = []
    try:
        assert process.stdout is not None
        started = time.monotonic()
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("demo ready") or time.monotonic() - started > READY_WITHIN:
                break
        assert lines and lines[-1].startswith("demo ready"), "\n".join(lines)
        assert time.monotonic() - started < READY_WITHIN
        yield process, lines
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise


def _signs_in(url: str, login: str, password: str) -> bool:
    with httpx.Client(base_url=url, timeout=10) as client:
        client.get("/login")
        response = client.post(
            "/login",
            data={"login": login, "password": password, "csrf_token": client.cookies[CSRF_COOKIE]},
            follow_redirects=False,
        )
        return response.status_code == 303


def _offer_titles(url: str) -> set[str]:
    answer = httpx.get(f"{url}/api/v1/offers/search", params={"limit": 100}, timeout=10)
    assert answer.status_code == 200, answer.text
    return {item["offer"]["title"] for item in answer.json()["items"]}


@pytest.mark.federation
def test_three_networks_start_seeded_sign_in_and_stop_together(tmp_path: Path) -> None:
    port = _free_ports(len(NETWORKS))
    with _demo(tmp_path / "demo", port) as (process, lines):
        shown = [match for line in lines if (match := LINE.match(line))]
        assert [m["name"] for m in shown] == [network.name for network in NETWORKS]
        assert [m["url"] for m in shown] == [
            f"http://localhost:{port + index}" for index in range(len(NETWORKS))
        ]
        for match, network in zip(shown, NETWORKS, strict=True):
            assert _signs_in(match["url"], match["login"], match["password"])
            assert not _signs_in(match["url"], match["login"], "not the password")
            # Peered: partner search on each network finds the offers of all three.
            titles = _offer_titles(match["url"])
            assert {offer["title"] for other in NETWORKS for offer in other.offers} <= titles
            experiences = httpx.get(f"{match['url']}/api/v1/experiences", timeout=10).json()
            assert {e["title"] for e in network.experiences} <= {
                item["title"] for item in experiences["items"]
            }
            threads = httpx.get(f"{match['url']}/api/v1/forums/cooperation/threads", timeout=10)
            assert threads.status_code == 200, threads.text
            started = {item["title"]: item for item in threads.json()["items"]}
            for discussion in network.discussions:
                assert started[discussion["title"]]["reply_count"] == len(discussion["replies"])
            polish = httpx.get(match["url"], headers={"Accept-Language": "pl"}, timeout=10)
            assert polish.status_code == 200 and network.name in polish.text
    assert process.returncode == 0
    for match in shown:
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{match['url']}/readyz", timeout=2)
    # The second run keeps the data and the logins, and seeds nothing twice.
    with _demo(tmp_path / "demo", port) as (_, again):
        assert "seeding" not in "\n".join(again)
        assert [m["password"] for line in again if (m := LINE.match(line))] == [
            m["password"] for m in shown
        ]
        answer = httpx.get(f"{shown[0]['url']}/api/v1/offers/search", timeout=10).json()
        assert answer["total"] == sum(len(network.offers) for network in NETWORKS)


def test_a_port_in_use_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = int(busy.getsockname()[1])
        done = subprocess.run(
            [sys.executable, "-m", "fedi", "demo", "--dir", str(tmp_path), "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    assert f"port {port} is in use: choose others with --port" in done.stderr
    assert not (tmp_path / "pl").exists()
