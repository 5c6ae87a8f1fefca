"""A distant peer: every answer takes 200 ms; how close does delivery come to the ideal rate?

With at most ``k`` requests in flight to one host (``delivery_concurrency_per_host``), the best
possible rate to a peer that answers in 0.2 s is ``k / 0.2`` activities per second. The worker
(:meth:`DeliveryWorker.run`, the production loop) delivers ``ACTIVITIES`` activities to one inbox
on a sink in another process; the target is 80 % of the ideal.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

import anyio
from sqlalchemy import func, select

from bench.common import prepare_outbox
from bench.sink import start_sink
from fedi.db.models import Delivery, DeliveryState
from fedi.federation.delivery import DeliveryWorker
from fedi.loop import event_loop_factory
from fedi.settings import Settings
from fedi.testing.delivery_worker import loopback_client

__all__ = ["main"]

LATENCY = 0.2
ACTIVITIES = 120


def default_concurrency() -> int:
    """The shipped default of ``delivery_concurrency_per_host``."""
    return Settings.delivery_concurrency_per_host


async def _distant(directory: Path, port: int, k: int) -> float:
    inbox = f"http://distant.bench.test:{port}/inbox"
    sessions, engine = await prepare_outbox(directory, [inbox], activities=ACTIVITIES)

    async def pending() -> int:
        async with sessions() as session:
            query = select(func.count()).where(Delivery.state == DeliveryState.PENDING)
            return int(await session.scalar(query) or 0)

    try:
        async with loopback_client(per_host=k) as client:
            worker = DeliveryWorker(sessions, client, concurrency_per_host=k, idle_interval=0.05)
            stop = anyio.Event()
            start = time.perf_counter()
            async with anyio.create_task_group() as group:
                group.start_soon(worker.run, stop)
                while await pending():  # noqa: ASYNC110 - the worker writes the database
                    await anyio.sleep(0.01)
                elapsed = time.perf_counter() - start
                stop.set()
        async with sessions() as session:
            query = select(func.count()).where(Delivery.state == DeliveryState.DELIVERED)
            delivered = int(await session.scalar(query) or 0)
    finally:
        await engine.dispose()
    if delivered != ACTIVITIES:
        raise RuntimeError(f"{delivered} of {ACTIVITIES} delivered")
    return ACTIVITIES / elapsed


def main() -> list[str]:
    """Run the benchmark; return its result line."""
    k = default_concurrency()
    child, port = start_sink(delay=LATENCY)
    try:
        with (
            tempfile.TemporaryDirectory() as directory,
            asyncio.Runner(loop_factory=event_loop_factory()) as runner,
        ):
            rate = runner.run(_distant(Path(directory), port, k))
    finally:
        child.terminate()
        child.wait(10)
    ideal = k / LATENCY
    return [
        f"distant peer: {rate:.1f} activities/s to one peer answering in {LATENCY * 1000:.0f} ms, "
        f"ideal {ideal:.1f}/s (k={k}), ratio {rate / ideal:.2f} (target >= 0.8)"
    ]


if __name__ == "__main__":
    print("\n".join(main()))
