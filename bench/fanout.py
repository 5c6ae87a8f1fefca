"""Fan-out: one activity delivered to 1,000 distinct shared inboxes, against the signing rate.

Each inbox is on its own host name (``inbox-N.fanout.test``), all resolved to 127.0.0.1 by the
``SafeClient``'s injectable resolver, so every delivery opens its own connection as a real fan-out
does. The sink (:mod:`bench.sink`) runs in another process and reads each request in full before
answering 202. Deliveries go through :class:`DeliveryWorker` (claim, sign with RSA-2048, POST,
record) on SQLite in a temporary directory, as ``fedi worker`` runs it: on its event loop, with
its signing threads, logging a JSON line per delivery (to a file). The worker first delivers a
warm-up activity to 50 other inboxes, untimed, as a running worker has already compiled its SQL
and parsed the sender's key; then one batch of 1,000 rows is timed. A delivery counts only once
its row is recorded as delivered (every row must be). The raw single-core RSA-2048 signing rate
(``sign_cavage`` on the same body) is measured in the same run, half a second just before the
timed batch and half a second just after it (their mean); the target is 0.4 of it.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from bench.common import log_to_file, prepare_outbox, queue_activities
from bench.sink import start_sink
from fedi.crypto import generate_rsa_key, sign_cavage
from fedi.db.models import Delivery, DeliveryState
from fedi.federation.delivery import DeliveryWorker
from fedi.instance import signing_threads
from fedi.loop import event_loop_factory
from fedi.testing.delivery_worker import loopback_client

__all__ = ["main", "signing_rate"]

INBOXES = 1000
WARM_UP = 50


def signing_rate(seconds: float = 1.0) -> float:
    """Draft-cavage RSA-2048 signatures per second on one core (what each delivery must do)."""
    key = generate_rsa_key()
    body = b'{"type":"Create","object":{"content":"' + b"x" * 300 + b'"}}'
    now = datetime.now(UTC)
    count = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        sign_cavage("POST", f"https://h{count}.test/inbox", {}, body, "https://a.test/k", key, now)
        count += 1
    return count / (time.perf_counter() - start)


async def _fanout(directory: Path, port: int) -> float:
    warm = [f"http://warm-{n}.fanout.test:{port}/inbox" for n in range(WARM_UP)]
    inboxes = [f"http://inbox-{n}.fanout.test:{port}/inbox" for n in range(INBOXES)]
    sessions, engine = await prepare_outbox(directory, warm)
    logged = log_to_file(directory / "worker.log")
    signing = signing_threads()
    try:
        async with loopback_client(per_host=4) as client:
            worker = DeliveryWorker(
                sessions,
                client,
                concurrency_per_host=4,
                batch_size=INBOXES,
                signing_executor=signing,
            )
            while await worker.run_once():  # the warm-up activity, not timed
                pass
            await queue_activities(sessions, inboxes)
            start = time.perf_counter()
            while await worker.run_once():
                pass
            elapsed = time.perf_counter() - start
        async with sessions() as session:
            query = select(func.count()).where(Delivery.state == DeliveryState.DELIVERED)
            delivered = int(await session.scalar(query) or 0) - WARM_UP
    finally:
        logging.getLogger().removeHandler(logged)
        logged.close()
        signing.shutdown()
        await engine.dispose()
    if delivered != INBOXES:
        raise RuntimeError(f"{delivered} of {INBOXES} delivered")
    return delivered / elapsed


def main() -> list[str]:
    """Run the benchmark; return its result line."""
    child, port = start_sink()
    try:
        # The baseline brackets the timed batch, half a second before and after it, so that a
        # drift of the machine's speed weighs on both sides of the ratio alike.
        before = signing_rate(0.5)
        with (
            tempfile.TemporaryDirectory() as directory,
            asyncio.Runner(loop_factory=event_loop_factory()) as runner,
        ):
            rate = runner.run(_fanout(Path(directory), port))
        signing = (before + signing_rate(0.5)) / 2
    finally:
        child.terminate()
        child.wait(10)
    ratio = rate / signing
    return [
        f"fan-out: {rate:.0f} deliveries/s, signing {signing:.0f}/s, ratio {ratio:.2f} "
        "(target >= 0.4)"
    ]


if __name__ == "__main__":
    print("\n".join(main()))
