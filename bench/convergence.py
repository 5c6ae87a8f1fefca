"""Convergence of partner search across peered instances.

``SIZES`` instances (each a real application with its own SQLite database, its own uvicorn server
on loopback and its own worker, all in this process), fully peered with ``fedi peer add``'s code;
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
import statistics
import tempfile
import time
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.db.models import Activity, Delivery, Follow, FollowState, utcnow
from fedi.instance import InstanceContext, build_context
from fedi.partners import policy
from fedi.peers import service as peering
from fedi.testing.databases import temporary_database
from fedi.testing.instances import RunningInstance, running_instance

__all__ = ["main"]

SIZES = (10, 30)
OFFERS = 20
# How long one offer may take to reach every instance before the run gives up on it.
GIVE_UP = 60.0


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


async def _peer_all(instances: list[RunningInstance]) -> None:
    """Every instance peers with every other, as ``fedi peer add`` does, one at a time."""
    gate = asyncio.Semaphore(1)

    async def peer(instance: RunningInstance, context: InstanceContext) -> None:
        for other in instances:
            if other is not instance:
                async with gate:
                    await peering.add_peer(context, other.base_url)

    contexts = [_context(instance) for instance in instances]
    try:
        await asyncio.gather(*(peer(i, c) for i, c in zip(instances, contexts, strict=True)))
    finally:
        for context in contexts:
            await context.aclose()


def _context(instance: RunningInstance) -> InstanceContext:
    return build_context(instance.settings)


def _accepted(instance: RunningInstance) -> int:
    async def work(session: AsyncSession) -> int:
        count = await session.scalar(
            select(func.count()).select_from(Follow).where(Follow.state == FollowState.ACCEPTED)
        )
        return int(count or 0)

    found: int = instance.run(work)
    return found


def _sent(instance: RunningInstance, since: int) -> tuple[int, int]:
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

    result: tuple[int, int] = instance.run(work)
    return result


def _last_activity(instance: RunningInstance) -> int:
    async def work(session: AsyncSession) -> int:
        return int(await session.scalar(select(func.max(Activity.id))) or 0)

    found: int = instance.run(work)
    return found


async def _found_everywhere(
    client: httpx.AsyncClient, others: list[RunningInstance], word: str
) -> float:
    started = time.perf_counter()
    waiting = set(range(len(others)))
    while waiting:
        if time.perf_counter() - started > GIVE_UP:
            raise RuntimeError(f"an offer did not reach {len(waiting)} instances in {GIVE_UP} s")
        answers = await asyncio.gather(
            *(
                client.get(f"{others[i].base_url}/api/v1/offers/search", params={"q": word})
                for i in sorted(waiting)
            )
        )
        for i, answer in zip(sorted(waiting), answers, strict=True):
            if answer.status_code == 200 and answer.json()["total"] == 1:
                waiting.discard(i)
        if waiting:
            await asyncio.sleep(0.02)
    return time.perf_counter() - started


def _run(size: int, directory: Path) -> tuple[list[float], float, float]:
    with ExitStack() as stack:
        instances = []
        for index in range(size):
            url = stack.enter_context(temporary_database("sqlite", directory))
            instances.append(
                stack.enter_context(running_instance(directory / f"i{index}", url, country="PL"))
            )
        tokens = [instance.add_member("anna") for instance in instances]
        asyncio.run(_peer_all(instances))
        deadline = time.monotonic() + 300
        while sum(_accepted(instance) for instance in instances) < size * (size - 1):
            if time.monotonic() > deadline:
                raise RuntimeError("the instances did not all accept each other's follows")
            time.sleep(0.2)
        times, requests, sizes = [], [], []
        for number in range(OFFERS):
            origin = instances[number % size]
            others = [instance for instance in instances if instance is not origin]
            before = _last_activity(origin)

            async def publish_and_wait(
                origin: RunningInstance = origin,
                others: list[RunningInstance] = others,
                token: str = tokens[number % size],
                number: int = number,
            ) -> float:
                async with httpx.AsyncClient(timeout=30) as client:
                    created = await client.post(
                        f"{origin.base_url}/api/v1/offers",
                        json=_payload(number, "PL"),
                        headers={"Authorization": f"Bearer {token}"},
                    )
                    created.raise_for_status()
                    return await _found_everywhere(client, others, f"zebrafinch{number}")

            times.append(asyncio.run(publish_and_wait()))
            sent, sent_bytes = _sent(origin, before)
            requests.append(sent)
            sizes.append(sent_bytes)
        return times, statistics.mean(requests), statistics.mean(sizes)


def _p(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> list[str]:
    policy.set_validation_override(False)
    lines = []
    per_peer = {}
    try:
        with tempfile.TemporaryDirectory() as directory:
            for size in SIZES:
                times, requests, size_bytes = _run(size, Path(directory) / str(size))
                per_peer[size] = requests / (size - 1)
                lines.append(
                    f"convergence {size} instances: p50 {_p(times, 0.5):.2f} s, "
                    f"p99 {_p(times, 0.99):.2f} s over {len(times)} offers; "
                    f"{requests:.0f} requests and {size_bytes / 1024:.0f} KiB per offer "
                    f"({per_peer[size]:.2f} requests per peer)"
                    + (" (target p99 <= 2 s)" if size == max(SIZES) else "")
                )
    finally:
        policy.set_validation_override(None)
    ratio = per_peer[max(SIZES)] / per_peer[min(SIZES)]
    lines.append(
        f"convergence: requests per offer per peer at {max(SIZES)} / at {min(SIZES)} instances "
        f"{ratio:.2f} (target 1.0: linear in the peers)"
    )
    return lines


if __name__ == "__main__":
    for line in main():
        print(line, flush=True)
