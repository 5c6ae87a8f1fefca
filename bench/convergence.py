"""Convergence of partner search across peered instances.

``SIZES`` instances, each a ``fedi serve`` process of its own (its SQLite database, its server on
loopback and its worker), fully peered with ``fedi peer add``'s code;
then ``OFFERS`` offers, one at a time, each published through the JSON API of one instance in
turn. For each offer: the time until a search on every other instance finds it (p50 and p99 over
the offers), and the requests and bytes its instance sent for it (the deliveries of its
activities). The ratio line compares the requests per offer per peer at the largest size with
those at the smallest: 1.0 means they grow linearly with the number of peers. Targets: p99 <= 2 s
at 30 instances; requests per offer linear in the peers.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.cli.common import run_in_session
from fedi.cli.serving import LoopbackInstance, serving, wait_ready
from fedi.db import identity, migrate
from fedi.db.models import Activity, Delivery, Follow, FollowState, Peer, utcnow
from fedi.files import private_directory
from fedi.instance import build_context
from fedi.peers import service as peering
from fedi.services import members, tokens
from fedi.settings import Settings, load_settings

__all__ = ["main"]

SIZES = (10, 30)
OFFERS = 20
# How long one offer may take to reach every instance before the run gives up on it.
GIVE_UP = 60.0
# How often the databases of the instances that have not found it yet are looked at.
POLL = 0.02
# How long the instances may take to start, all at once on a machine with few cores, and then
# to accept and read each other.
START = 600.0
# How many peerings run at once while the instances are set up.
PEERING = 4


def _payload(number: int, country: str) -> dict[str, Any]:
    deadline = (utcnow().date() + timedelta(days=90)).isoformat()
    return {
        "purpose": "offer",
        "level": "project",
        "cooperation": ["transfer-of-practice"],
        "language": "en",
        "title": f"Mentoring programme number {number} zebrafinch{number}",
        "summary": "We look for partners to transfer a mentoring method.",
        "description": "Our mentoring programme has run since 2019.",
        "working_languages": ["en"],
        "objectives": ["h"],
        "themes": ["social-inclusion"],
        "target_groups": ["youth-neet"],
        "organisation": {
            "name": "Example Foundation",
            "type": "ngo-civil-society",
            "country": country,
        },
        "countries_sought": [],
        "funding": {"call_deadline": deadline},
    }


T = TypeVar("T")

COUNTRIES = ("PL", "IT", "DE", "FR", "ES", "PT", "CZ", "SK", "SI", "HR", "AT", "BE", "NL", "LU")


def _settings(instance: LoopbackInstance) -> Settings:
    return load_settings(instance.environment())


def _in_session(instance: LoopbackInstance, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    return run_in_session(_settings(instance), work)


def _free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            probe.bind(("127.0.0.1", 0))
            sockets.append(probe)
        return [probe.getsockname()[1] for probe in sockets]
    finally:
        for probe in sockets:
            probe.close()


def _set_up(instance: LoopbackInstance) -> str:
    """Migrate the instance's database and add its member; the member's bearer token."""
    private_directory(instance.directory)
    settings = _settings(instance)
    migrate.upgrade(settings.database_url)
    identity.claim_base_url(settings.database_url, settings.base_url)

    async def work(session: AsyncSession) -> str:
        await members.add_member(session, settings, "anna", "a long benchmark password")
        return await tokens.issue_token(session, "anna", "bench")

    return _in_session(instance, work)


async def _peer_all(instances: list[LoopbackInstance]) -> None:
    """Every instance peers with every other, as ``fedi peer add`` does: each instance adds
    its peers one after the other, :data:`PEERING` instances at a time."""
    gate = asyncio.Semaphore(PEERING)

    async def peer(instance: LoopbackInstance) -> None:
        context = build_context(_settings(instance))
        try:
            for other in instances:
                if other is not instance:
                    async with gate:
                        await peering.add_peer(context, other.base_url)
        finally:
            await context.aclose()

    await asyncio.gather(*(peer(instance) for instance in instances))


async def _settled(session: AsyncSession) -> int:
    """How many of this instance's follows are accepted and its peers read once: peering is
    done when each instance counts its peers twice."""
    accepted = await session.scalar(
        select(func.count()).select_from(Follow).where(Follow.state == FollowState.ACCEPTED)
    )
    synced = await session.scalar(
        select(func.count()).select_from(Peer).where(Peer.synced_at.is_not(None))
    )
    return int(accepted or 0) + int(synced or 0)


def _sent(instance: LoopbackInstance, since: int) -> tuple[int, int]:
    """Requests and bytes of the deliveries of the activities after row id ``since``."""

    async def work(session: AsyncSession) -> tuple[int, int]:
        rows = await session.execute(
            select(Activity.document, func.count(Delivery.id))
            .join(Delivery, Delivery.activity_id == Activity.id)
            .where(Activity.id > since)
            .group_by(Activity.id)
        )
        requests = size = 0
        for document, count in rows.all():
            requests += count
            size += count * len(json.dumps(document).encode())
        return requests, size

    return _in_session(instance, work)


def _deliveries(instance: LoopbackInstance, since: int) -> list[tuple[str, str | None, int]]:
    """How the deliveries of the activities after row id ``since`` stand: state, last error and
    how many."""

    async def work(session: AsyncSession) -> list[tuple[str, str | None, int]]:
        rows = await session.execute(
            select(Delivery.state, Delivery.last_error, func.count())
            .join(Activity, Activity.id == Delivery.activity_id)
            .where(Activity.id > since)
            .group_by(Delivery.state, Delivery.last_error)
        )
        return [(str(state), error, int(count)) for state, error, count in rows.all()]

    return _in_session(instance, work)


async def _last_activity_id(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.max(Activity.id))) or 0)


def _replicas(instance: LoopbackInstance) -> sqlite3.Connection:
    """A read-only connection to the instance's database, to see cheaply when an offer has
    arrived there (the instance is asked by a real search only then)."""
    path = make_url(_settings(instance).database_url).database
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)


def _arrived(database: sqlite3.Connection, word: str) -> bool:
    row = database.execute("SELECT 1 FROM offers WHERE title LIKE ?", (f"%{word}%",)).fetchone()
    return row is not None


async def _found_everywhere(
    client: httpx.AsyncClient,
    others: list[LoopbackInstance],
    databases: list[sqlite3.Connection],
    word: str,
    started: float,
) -> float:
    """Seconds from ``started`` until a search on each of ``others`` finds the offer."""
    waiting = set(range(len(others)))
    while waiting:
        if time.perf_counter() - started > GIVE_UP:
            raise RuntimeError(f"an offer did not reach {len(waiting)} instances in {GIVE_UP} s")
        arrived = [i for i in sorted(waiting) if _arrived(databases[i], word)]
        answers = await asyncio.gather(
            *(
                client.get(f"{others[i].base_url}/api/v1/offers/search", params={"q": word})
                for i in arrived
            )
        )
        for i, answer in zip(arrived, answers, strict=True):
            if answer.status_code == 200 and answer.json()["total"] == 1:
                waiting.discard(i)
        if waiting:
            await asyncio.sleep(POLL)
    return time.perf_counter() - started


def _run(size: int, directory: Path) -> tuple[list[float], float, float]:
    instances = [
        LoopbackInstance(
            f"Network {index}", COUNTRIES[index % len(COUNTRIES)], port, directory / f"i{index}"
        )
        for index, port in enumerate(_free_ports(size))
    ]
    bearer = [_set_up(instance) for instance in instances]
    with serving(instances) as processes:
        for instance, process in zip(instances, processes, strict=True):
            wait_ready(instance, process, timeout=START)
        asyncio.run(_peer_all(instances))
        deadline = time.monotonic() + START
        while sum(_in_session(i, _settled) for i in instances) < 2 * size * (size - 1):
            if time.monotonic() > deadline:
                raise RuntimeError("the instances did not all accept and read each other")
            time.sleep(0.5)
        times, requests, sizes = [], [], []
        databases = {instance.port: _replicas(instance) for instance in instances}
        for number in range(OFFERS):
            origin = instances[number % size]
            others = [instance for instance in instances if instance is not origin]
            watched = [databases[instance.port] for instance in others]
            before = _in_session(origin, _last_activity_id)

            async def publish_and_wait(
                origin: LoopbackInstance = origin,
                others: list[LoopbackInstance] = others,
                watched: list[sqlite3.Connection] = watched,
                token: str = bearer[number % size],
                number: int = number,
            ) -> float:
                async with httpx.AsyncClient(timeout=30) as client:
                    started = time.perf_counter()
                    created = await client.post(
                        f"{origin.base_url}/api/v1/offers",
                        json=_payload(number, origin.country),
                        headers={"Authorization": f"Bearer {token}"},
                    )
                    created.raise_for_status()
                    word = f"zebrafinch{number}"
                    return await _found_everywhere(client, others, watched, word, started)

            try:
                times.append(asyncio.run(publish_and_wait()))
            except RuntimeError as exc:
                raise RuntimeError(f"{exc}; its deliveries: {_deliveries(origin, before)}") from exc
            sent, sent_bytes = _sent(origin, before)
            requests.append(sent)
            sizes.append(sent_bytes)
        for database in databases.values():
            database.close()
        return times, statistics.mean(requests), statistics.mean(sizes)


def _p(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> list[str]:
    lines = []
    per_peer = {}
    with tempfile.TemporaryDirectory() as directory:
        for size in SIZES:
            started = time.perf_counter()
            times, requests, size_bytes = _run(size, Path(directory) / str(size))
            per_peer[size] = requests / (size - 1)
            lines.append(
                f"convergence {size} instances: p50 {_p(times, 0.5):.2f} s, "
                f"p99 {_p(times, 0.99):.2f} s over {len(times)} offers; "
                f"{requests:.0f} requests and {size_bytes / 1024:.0f} KiB per offer "
                f"({per_peer[size]:.2f} requests per peer; the run took "
                f"{time.perf_counter() - started:.0f} s)"
                + (" (target p99 <= 2 s)" if size == max(SIZES) else "")
            )
    ratio = per_peer[max(SIZES)] / per_peer[min(SIZES)]
    lines.append(
        f"convergence: requests per offer per peer at {max(SIZES)} / at {min(SIZES)} instances "
        f"{ratio:.2f} (target 1.0: linear in the peers)"
    )
    return lines


if __name__ == "__main__":
    for line in main():
        print(line, flush=True)
