"""A delivery worker as its own process, for tests and benchmarks (never used in production).

``python -m fedi.testing.delivery_worker DATABASE_URL [--mode once|run] [--per-host K]`` delivers
until no pending delivery is left (or ``--deadline`` seconds pass), then exits 0 (2 on the
deadline). Every ``*.test`` host name resolves to 127.0.0.1, and plain http is allowed, so the
inboxes can point at a local sink. ``--mode once`` steps :meth:`DeliveryWorker.run_once` in a
loop; ``--mode run`` drives :meth:`DeliveryWorker.run`. Either registers as a live worker with a
heartbeat, as ``fedi worker`` does.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

import anyio
from sqlalchemy import func, select

from fedi.db.engine import make_async_engine, make_sessionmaker
from fedi.db.models import Delivery, DeliveryState, utcnow
from fedi.federation.delivery import DeliveryWorker
from fedi.federation.liveness import Liveness
from fedi.net.client import FetchPolicy, SafeClient
from fedi.net.urls import LOOPBACK_NETWORKS

__all__ = ["loopback_client", "loopback_resolver", "main"]


async def loopback_resolver(host: str, port: int) -> Sequence[str]:
    """Resolve every name to 127.0.0.1 (the sink), as a :data:`fedi.net.Resolver`."""
    return ["127.0.0.1"]


def loopback_client(per_host: int, *, timeout: float = 30.0) -> SafeClient:
    """A :class:`SafeClient` that reaches loopback over http, with ``per_host`` connections."""
    policy = FetchPolicy(
        user_agent="fedi-test-worker/1.0",
        private_networks=LOOPBACK_NETWORKS,
        allow_http=True,
        per_host_connections=per_host,
        max_connections=1024,
        total_timeout=timeout,
    )
    return SafeClient(policy, resolver=loopback_resolver)


async def _work(url: str, mode: str, per_host: int, deadline: float) -> int:
    engine = make_async_engine(url)
    sessions = make_sessionmaker(engine)

    async def pending() -> int:
        async with sessions() as session:
            count = await session.scalar(
                select(func.count()).where(Delivery.state == DeliveryState.PENDING)
            )
            return int(count or 0)

    stop_at = time.monotonic() + deadline
    liveness = Liveness(sessions, utcnow)
    await liveness.register()
    try:
        async with loopback_client(per_host) as client, anyio.create_task_group() as group:
            worker = DeliveryWorker(
                sessions,
                client,
                concurrency_per_host=per_host,
                idle_interval=0.05,
                liveness=liveness,
            )
            stop = anyio.Event()
            group.start_soon(liveness.run, stop)
            if mode == "once":
                while await pending() and time.monotonic() < stop_at:
                    if not await worker.run_once():
                        await anyio.sleep(0.02)
            else:

                async def watch() -> None:
                    # The other worker changes the database: nothing to wait on but a poll.
                    while await pending() and time.monotonic() < stop_at:  # noqa: ASYNC110
                        await anyio.sleep(0.05)
                    stop.set()

                group.start_soon(watch)
                await worker.run(stop)
            stop.set()
        return 0 if not await pending() else 2
    finally:
        await liveness.unregister()
        await engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fedi.testing.delivery_worker")
    parser.add_argument("database_url")
    parser.add_argument("--mode", choices=("once", "run"), default="once")
    parser.add_argument("--per-host", type=int, default=4)
    parser.add_argument("--deadline", type=float, default=60.0)
    args = parser.parse_args(argv)
    return anyio.run(_work, args.database_url, args.mode, args.per_host, args.deadline)


if __name__ == "__main__":
    sys.exit(main())
