"""Inbox: signed Create activities accepted and recorded per second on one worker.

The instance is ``create_app(settings)`` without its background worker, so only accepting and
recording is measured: every request through the application and its middleware to the inbox
route and its acceptance policy (content type, size cap, JSON, draft-cavage RSA-2048 signature
check against the cached remote actor, no fetch, and the other conditions), then one ``Activity``
row in state ``received``, committed (in a group commit) before the 202. It runs on SQLite in
a temporary directory, served by uvicorn in its own process with one worker and the logging
``fedi serve`` configures. The baseline is a bare Starlette
app with one POST route that only does ``await request.json()`` and answers 202, served the same
way, in a process of its own, at the same time.

``ACTIVITIES`` distinct Create activities (one remote actor, ``alice.test``) are signed before
any timing, with a ``Date`` of now, by a process pool. They are then sent in ``ROUNDS`` batches:
each batch to both servers, one after the other (each first in turn), as the very same request
bytes, over ``CONCURRENCY`` keep-alive connections: a raw asyncio client on uvloop, which costs
far less CPU than either server (``python -m bench.inbox --check-client`` drives a bare ASGI
callable to show its ceiling). A round's ratio compares two passes a second apart, on the same
machine speed (which drifts by tens of percent within a minute on shared machines); the median
round is the figure, and the lowest and highest are printed beside it. Every answer must be
202, and the database must hold exactly the activities sent. Target: ratio >= 0.20.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import uvicorn
import uvloop
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.actors.document import parse_actor_document
from fedi.actors.local import ensure_instance_actors
from fedi.actors.remote import store_actor
from fedi.db import migrate
from fedi.db.engine import make_async_engine, make_sessionmaker, make_sync_engine
from fedi.db.models import Activity, ActivityState
from fedi.settings import Settings, load_settings
from fedi.testing.peers import alice
from fedi.web.listener import GuardedHttpProtocol

__all__ = ["main"]

ACTIVITIES = 17500
CONCURRENCY = 32
ROUNDS = 7
INBOX_PATH = "/inbox"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


# Setup (before any timing) -----------------------------------------------------------------------


def _settings(directory: Path, base_url: str) -> Settings:
    return load_settings(
        {
            "FEDI_DATA_DIR": str(directory),
            "FEDI_DATABASE_URL": f"sqlite:///{(directory / 'inbox.sqlite3').as_posix()}",
            "FEDI_BASE_URL": base_url,
            "FEDI_INSTANCE_NAME": "ESF bench",
            "FEDI_COUNTRY": "PL",
        }
    )


def _prepare_database(settings: Settings) -> None:
    """Migrate, create the instance actors, and cache the remote sender as a fetch would."""
    migrate.upgrade(settings.database_url)

    async def work() -> None:
        engine = make_async_engine(settings.database_url)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                await _populate(session, settings)
        finally:
            await engine.dispose()

    asyncio.run(work())


async def _populate(session: AsyncSession, settings: Settings) -> None:
    await ensure_instance_actors(session, settings)
    sender = alice()
    parsed = parse_actor_document(sender.document(), sender.uri)
    await store_actor(session, parsed, now=datetime.now(UTC), local_domain=settings.domain)


def _create(n: int) -> dict[str, Any]:
    """A Mastodon-shaped public Create of a Note, unique by ``n``."""
    sender = alice()
    note_id = f"https://{sender.host}/users/{sender.username}/statuses/{n}"
    published = "2024-05-01T11:00:00Z"
    return {
        "@context": [
            "https://www.w3.org/ns/activitystreams",
            {"sensitive": "as:sensitive", "Hashtag": "as:Hashtag"},
        ],
        "id": f"{note_id}/activity",
        "type": "Create",
        "actor": sender.uri,
        "published": published,
        "to": [PUBLIC],
        "cc": [f"{sender.uri}/followers"],
        "object": {
            "id": note_id,
            "type": "Note",
            "summary": None,
            "inReplyTo": None,
            "published": published,
            "url": f"https://{sender.host}/@{sender.username}/{n}",
            "attributedTo": sender.uri,
            "to": [PUBLIC],
            "cc": [f"{sender.uri}/followers"],
            "sensitive": False,
            "content": f"<p>Benchmark note {n}: a transnational cooperation update. "
            + "Partners met to compare results and plan the next exchange. " * 4
            + "</p>",
            "contentMap": {"en": f"<p>Benchmark note {n}</p>"},
            "attachment": [],
            "tag": [],
            "replies": {
                "id": f"{note_id}/replies",
                "type": "Collection",
                "first": {"type": "CollectionPage", "items": [], "partOf": f"{note_id}/replies"},
            },
        },
    }


def _sign_range(base_url: str, start: int, stop: int) -> list[bytes]:
    """Complete HTTP/1.1 requests for activities ``start..stop``, each signed now."""
    sender = alice()
    url = f"{base_url}{INBOX_PATH}"
    requests = []
    for n in range(start, stop):
        body = json.dumps(_create(n)).encode()
        headers = sender.sign(
            "POST",
            url,
            body,
            now=datetime.now(UTC),
            headers={
                "Content-Type": "application/activity+json",
                "User-Agent": "bench-inbox/1.0 (+https://alice.test/)",
            },
        )
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        requests.append(
            f"POST {INBOX_PATH} HTTP/1.1\r\n{head}Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
    return requests


def _presign(base_url: str, count: int) -> list[bytes]:
    workers = max(os.cpu_count() or 1, 1)
    step = -(-count // workers)
    bounds = [(start, min(start + step, count)) for start in range(0, count, step)]
    with ProcessPoolExecutor(workers) as pool:
        chunks = pool.map(_sign_range, [base_url] * len(bounds), *zip(*bounds, strict=True))
        return [request for chunk in chunks for request in chunk]


def _recorded(settings: Settings) -> tuple[int, int]:
    """(all activities, received activities) in the instance's database."""
    engine = make_sync_engine(settings.database_url)
    try:
        with engine.connect() as connection:
            total = connection.scalar(select(func.count()).select_from(Activity)) or 0
            received = (
                connection.scalar(
                    select(func.count())
                    .select_from(Activity)
                    .where(Activity.state == ActivityState.RECEIVED)
                )
                or 0
            )
    finally:
        engine.dispose()
    return total, received


# Servers (each in its own process) ---------------------------------------------------------------


def _listening_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(4096)
    return sock


def _start_server(
    role: str, sock: socket.socket, directory: Path, base_url: str
) -> subprocess.Popen[bytes]:
    """``python -m bench.inbox --serve ROLE`` on ``sock``; returns once it answers HTTP."""
    log = (directory / f"{role}.log").open("wb")
    child = subprocess.Popen(  # noqa: S603 - this module, fixed arguments
        [
            sys.executable,
            "-m",
            "bench.inbox",
            "--serve",
            role,
            "--fd",
            str(sock.fileno()),
            "--data-dir",
            str(directory),
            "--base-url",
            base_url,
        ],
        pass_fds=[sock.fileno()],
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    log.close()
    port = sock.getsockname()[1]
    deadline = time.monotonic() + 30
    while True:
        if child.poll() is not None:
            raise RuntimeError(f"the {role} server exited: see {directory / (role + '.log')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as probe:
                probe.sendall(b"GET /bench-probe HTTP/1.1\r\nHost: localhost\r\n\r\n")
                if probe.recv(64).startswith(b"HTTP/1.1 "):
                    return child
        except OSError:
            pass
        if time.monotonic() > deadline:
            child.kill()
            raise RuntimeError(f"the {role} server did not start")
        time.sleep(0.05)


def _stop_server(child: subprocess.Popen[bytes]) -> None:
    child.terminate()
    try:
        child.wait(15)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait(5)


def _fedi_app(directory: Path, base_url: str) -> Any:
    from fedi.log import configure_logging
    from fedi.web import create_app

    settings = _settings(directory, base_url)
    configure_logging(settings.log_level)
    return create_app(settings, run_worker=False)


def _bare_app() -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from fedi.log import configure_logging

    configure_logging("INFO")

    async def inbox(request: Request) -> Response:
        await request.json()
        return Response(status_code=202)

    return Starlette(routes=[Route(INBOX_PATH, inbox, methods=["POST"])])


def _sink_app() -> Any:
    """A bare ASGI callable: the cheapest server, to see what the client alone can drive."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        headers = [(b"content-length", b"0")]
        await send({"type": "http.response.start", "status": 202, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    return app


def _serve(role: str, fd: int, directory: Path, base_url: str) -> None:
    if role == "fedi":
        app = _fedi_app(directory, base_url)
    elif role == "bare":
        app = _bare_app()
    else:
        app = _sink_app()
    # As ``fedi serve`` runs uvicorn: one worker, default loop (uvloop), the guarded httptools
    # protocol of fedi.web.listener (both servers alike).
    config = uvicorn.Config(
        app,
        http=GuardedHttpProtocol,
        ws="none",
        log_config=None,
        access_log=False,
        proxy_headers=False,
        server_header=False,
        lifespan="auto" if role == "fedi" else "off",
        timeout_graceful_shutdown=5,
    )
    uvicorn.Server(config).run(sockets=[socket.socket(fileno=fd)])


# The client (this process) -----------------------------------------------------------------------


class _Connection(asyncio.Protocol):
    """One keep-alive connection sending queued requests one at a time."""

    def __init__(
        self, pending: collections.deque[bytes], statuses: collections.Counter[int]
    ) -> None:
        self.pending = pending
        self.statuses = statuses
        self.buffer = b""
        self.transport: asyncio.Transport | None = None
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it (and set
        # TCP_NODELAY themselves).
        self.transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_exception(exc or ConnectionError("the server closed the connection"))

    def send_next(self) -> None:
        assert self.transport is not None
        if self.pending:
            self.transport.write(self.pending.popleft())
        elif not self.done.done():
            self.done.set_result(None)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = self.buffer[:head_end].lower()
            at = head.find(b"\r\ncontent-length:")
            if at < 0:
                self.done.set_exception(ValueError("a response without Content-Length"))
                return
            value_end = head.find(b"\r\n", at + 2)
            length = int(head[at + 17 : value_end if value_end > 0 else None])
            end = head_end + 4 + length
            if len(self.buffer) < end:
                return
            self.statuses[int(self.buffer[9:12])] += 1
            self.buffer = self.buffer[end:]
            self.send_next()


async def _drive(port: int, requests: Sequence[bytes], concurrency: int) -> _Run:
    """Send every request over ``concurrency`` keep-alive connections, one at a time on each."""
    loop = asyncio.get_running_loop()
    pending = collections.deque(requests)
    statuses: collections.Counter[int] = collections.Counter()
    connections: list[_Connection] = []
    for _ in range(concurrency):
        _, protocol = await loop.create_connection(
            lambda: _Connection(pending, statuses), "127.0.0.1", port
        )
        connections.append(protocol)
    cpu = time.process_time()
    start = time.perf_counter()
    for connection in connections:
        connection.send_next()
    # Generous: a stalled server fails the benchmark instead of hanging it.
    async with asyncio.timeout(300):
        await asyncio.gather(*(connection.done for connection in connections))
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu
    for connection in connections:
        if connection.transport is not None:
            connection.transport.close()
    return _Run(len(requests) / elapsed, cpu / elapsed, dict(statuses))


@dataclass(frozen=True)
class _Run:
    rate: float  # requests answered per second
    client_cpu: float  # CPU seconds this client spent per second of the run
    statuses: dict[int, int]  # answers by status


@dataclass(frozen=True)
class _Round:
    fedi: _Run
    bare: _Run

    @property
    def ratio(self) -> float:
        return self.fedi.rate / self.bare.rate


def _check(role: str, run: _Run, expected: int) -> None:
    if run.statuses != {202: expected}:
        raise RuntimeError(f"{role}: answers {run.statuses}, expected {expected} x 202")


def _measure_rounds(
    fedi_socket: socket.socket,
    directory: Path,
    base_url: str,
    requests: Sequence[bytes],
    rounds: int,
    concurrency: int,
) -> list[_Round]:
    """Serve both apps at once, each on its own socket, and alternate between them: in each
    round the bare app and the instance take the very same batch of requests, one after the
    other, each first in turn.

    The machine's speed drifts by tens of percent within a minute here (other tenants, clock
    changes); a pair of passes a second apart sees the same machine, so each round's ratio is
    fair, and the median round is the figure. Each batch is new to the instance (it would
    refuse a replay), while the bare app only parses JSON and takes any batch."""
    with _listening_socket() as bare_socket:
        fedi = _start_server("fedi", fedi_socket, directory, base_url)
        try:
            bare = _start_server("bare", bare_socket, directory, base_url)
        except BaseException:
            _stop_server(fedi)
            raise
        size = len(requests) // rounds
        results = []
        try:
            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                bare_port = bare_socket.getsockname()[1]
                fedi_port = fedi_socket.getsockname()[1]
                for number in range(rounds):
                    batch = requests[number * size : (number + 1) * size]
                    # Either goes first in turn, so that a drift within a round favours neither.
                    if number % 2 == 0:
                        bare_run = runner.run(_drive(bare_port, batch, concurrency))
                        fedi_run = runner.run(_drive(fedi_port, batch, concurrency))
                    else:
                        fedi_run = runner.run(_drive(fedi_port, batch, concurrency))
                        bare_run = runner.run(_drive(bare_port, batch, concurrency))
                    _check("bare", bare_run, len(batch))
                    _check("fedi", fedi_run, len(batch))
                    results.append(_Round(fedi_run, bare_run))
        finally:
            _stop_server(bare)
            _stop_server(fedi)
    return results


def _measure(
    role: str,
    sock: socket.socket,
    directory: Path,
    base_url: str,
    requests: Sequence[bytes],
    concurrency: int,
    passes: int = 1,
) -> _Run:
    """Start the ``role`` server on ``sock``, send it every request ``passes`` times, stop it;
    all answers must be 202. Returns the pass with the median rate."""
    child = _start_server(role, sock, directory, base_url)
    try:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            port = sock.getsockname()[1]
            runs = [runner.run(_drive(port, requests, concurrency)) for _ in range(passes)]
    finally:
        _stop_server(child)
    for run in runs:
        _check(role, run, len(requests))
    return sorted(runs, key=lambda run: run.rate)[len(runs) // 2]


# Entry points ------------------------------------------------------------------------------------


def main(
    activities: int = ACTIVITIES, concurrency: int = CONCURRENCY, rounds: int = ROUNDS
) -> list[str]:
    """Run the benchmark; return its result line."""
    with tempfile.TemporaryDirectory() as name, _listening_socket() as sock:
        directory = Path(name)
        base_url = f"http://localhost:{sock.getsockname()[1]}"
        settings = _settings(directory, base_url)
        _prepare_database(settings)
        requests = _presign(base_url, activities)
        results = _measure_rounds(sock, directory, base_url, requests, rounds, concurrency)
        recorded = sum(result.fedi.statuses[202] for result in results)
        total, received = _recorded(settings)
        if total != recorded or received != recorded:
            raise RuntimeError(
                f"the database holds {total} activities ({received} received), expected {recorded}"
            )
    ordered = sorted(results, key=lambda result: result.ratio)
    median = ordered[len(ordered) // 2]
    return [
        f"inbox: {median.fedi.rate:.0f} activities/s recorded, bare Starlette "
        f"{median.bare.rate:.0f} requests/s, ratio {median.ratio:.2f} (target >= 0.20; "
        f"median of {len(results)} rounds, {ordered[0].ratio:.2f}-{ordered[-1].ratio:.2f})"
    ]


def check_client(activities: int = ACTIVITIES, concurrency: int = CONCURRENCY) -> list[str]:
    """The client against a bare ASGI callable: the most it can drive on this machine."""
    with tempfile.TemporaryDirectory() as name, _listening_socket() as sock:
        directory = Path(name)
        requests = _presign(f"http://localhost:{sock.getsockname()[1]}", activities)
        run = _measure("sink", sock, directory, "", requests, concurrency, passes=5)
    return [
        f"inbox client: {run.rate:.0f} requests/s against a bare ASGI callable, "
        f"client CPU {run.client_cpu:.0%} of one core"
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.inbox")
    parser.add_argument("--activities", type=int, default=ACTIVITIES)
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--check-client", action="store_true", help="measure the client alone")
    parser.add_argument("--serve", choices=("fedi", "bare", "sink"), help=argparse.SUPPRESS)
    parser.add_argument("--fd", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        _serve(args.serve, args.fd, args.data_dir, args.base_url)
    elif args.check_client:
        print("\n".join(check_client(args.activities, args.concurrency)))
    else:
        print("\n".join(main(args.activities, args.concurrency, args.rounds)))
