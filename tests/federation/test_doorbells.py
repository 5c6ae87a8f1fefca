"""What the web side of a process commits is worked by its worker at once, not at the next poll:
an activity the inbox recorded, and the deliveries it queued."""

from __future__ import annotations

import asyncio
import time

from fedi.federation.worker import Worker
from fedi.instance import utc_clock
from fedi.testing.peers import InboxHarness, alice

ANNA = "https://esf.test/users/anna"
# Far longer than the test waits: only a doorbell can wake the loops in time.
POLL = 60.0


async def test_a_received_follow_is_worked_and_answered_without_waiting_for_a_poll(
    h: InboxHarness,
) -> None:
    h.ctx.clock = utc_clock  # deliveries are due by the real clock
    worker = Worker(h.ctx)
    worker.inbox.poll_interval = POLL
    worker.delivery.idle_interval = POLL
    follower = alice()
    for inbox in (follower.inbox, f"https://{follower.host}/inbox"):
        h.peers.serve(inbox, {}, status=202)
    stop = asyncio.Event()
    loops = [
        asyncio.create_task(worker.inbox.run(stop)),
        asyncio.create_task(worker.delivery.run(stop)),
    ]
    try:
        await asyncio.sleep(0.3)  # both loops looked once and now wait for their poll
        follow = {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"https://{follower.host}/activities/doorbell-follow",
            "type": "Follow",
            "actor": follower.uri,
            "object": ANNA,
        }
        sent = time.monotonic()
        response = await h.deliver(follower, follow)
        assert response.status_code == 202, response.text
        while not _accepts_sent(h):
            assert time.monotonic() - sent < 10, "the Accept was not sent before the poll"
            await asyncio.sleep(0.02)
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*loops), timeout=10)


def _accepts_sent(h: InboxHarness) -> bool:
    return any(
        request.method == "POST" and b'"Accept"' in request.content for request in h.peers.requests
    )
