"""Inbox, CPU time in process: the application called directly, no server, no client.

``python -m bench.inbox`` measures requests a second through uvicorn, which on a shared machine
moves with everyone else's load. This measures what does not: the CPU time (``process_time``)
the application itself spends per recorded activity, with the same signed Creates, the same
SQLite database and the same ``create_app(settings)``, every request through all its middleware
to the inbox route and its policy. The bare Starlette app of ``bench.inbox`` is measured the same
way, and the ratio of the two CPU costs is printed beside them (the share of the server's own
work, the HTTP parsing, is left out of both, so it is lower than the served figure).

``--profile FILE`` writes a cProfile of the application's pass (``python -m pstats FILE``).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvloop

from bench.inbox import INBOX_PATH, _bare_app, _create, _prepare_database, _recorded, _settings
from fedi.testing.peers import alice

__all__ = ["main"]

ACTIVITIES = 4000
CONCURRENCY = 32
BASE_URL = "http://bench.localhost"

Request = tuple[list[tuple[bytes, bytes]], bytes]


def _signed(count: int) -> list[Request]:
    sender = alice()
    url = f"{BASE_URL}{INBOX_PATH}"
    requests = []
    for n in range(count):
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
        raw = [(name.lower().encode(), value.encode()) for name, value in headers.items()]
        raw.append((b"content-length", str(len(body)).encode()))
        requests.append((raw, body))
    return requests


def _scope(headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": INBOX_PATH,
        "raw_path": INBOX_PATH.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 80),
        "state": {},
    }


async def _call(app: Any, request: Request) -> int:
    headers, body = request
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.Event().wait()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(_scope(list(headers)), receive, send)
    return status


async def _pass(
    app: Any, requests: Sequence[Request], concurrency: int
) -> tuple[float, dict[int, int]]:
    """Every request, ``concurrency`` at a time; (CPU seconds, statuses)."""
    statuses: dict[int, int] = {}
    pending = iter(requests)

    async def lane() -> None:
        for request in pending:
            status = await _call(app, request)
            statuses[status] = statuses.get(status, 0) + 1

    cpu = time.process_time()
    await asyncio.gather(*(lane() for _ in range(concurrency)))
    return time.process_time() - cpu, statuses


async def _with_lifespan(app: Any, work: Callable[[], Any]) -> Any:
    events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    answers: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await events.put({"type": "lifespan.startup"})

    async def send(message: dict[str, Any]) -> None:
        await answers.put(message)

    task = asyncio.create_task(app({"type": "lifespan", "state": {}}, events.get, send))
    await answers.get()
    try:
        return await work()
    finally:
        await events.put({"type": "lifespan.shutdown"})
        await answers.get()
        await task


def main(
    activities: int = ACTIVITIES, concurrency: int = CONCURRENCY, profile: Path | None = None
) -> list[str]:
    from fedi.log import configure_logging
    from fedi.web import create_app

    requests = _signed(activities)
    with tempfile.TemporaryDirectory(prefix="bench-inbox-cpu-") as tmp:
        directory = Path(tmp)
        settings = _settings(directory, BASE_URL)
        _prepare_database(settings)
        configure_logging(settings.log_level)
        app = create_app(settings, run_worker=False)
        bare = _bare_app()
        warm = 200

        async def run() -> tuple[float, dict[int, int], float]:
            await _pass(app, requests[:warm], concurrency)
            await _pass(bare, requests[:warm], concurrency)
            profiler = cProfile.Profile() if profile else None
            if profiler:
                profiler.enable()
            cpu, statuses = await _pass(app, requests[warm:], concurrency)
            if profiler:
                profiler.disable()
                profiler.dump_stats(str(profile))
            bare_cpu, _ = await _pass(bare, requests[warm:], concurrency)
            return cpu, statuses, bare_cpu

        cpu, statuses, bare_cpu = uvloop.run(_with_lifespan(app, run))
        total, _ = _recorded(settings)
    measured = activities - warm
    lines = [
        f"statuses {statuses}; recorded {total} of {activities}",
        f"application: {cpu / measured * 1e6:.0f} µs CPU per activity "
        f"({measured / cpu:.0f}/s of CPU)",
        f"bare app:    {bare_cpu / measured * 1e6:.0f} µs CPU per activity",
        f"ratio (CPU, server's HTTP parsing left out): {bare_cpu / cpu:.3f}",
    ]
    if statuses != {202: measured} or total != activities:
        raise SystemExit("\n".join([*lines, "not every activity was recorded"]))
    return lines


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--activities", type=int, default=ACTIVITIES)
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY)
    parser.add_argument("--profile", type=Path, default=None)
    arguments = parser.parse_args()
    for line in main(arguments.activities, arguments.concurrency, arguments.profile):
        print(line)
