"""The background worker of one instance: inbox processing, outgoing deliveries, e-mail, the
expiry of partner offers and the synchronisation of peers' offers.

``fedi worker`` runs it as its own process (several can share a PostgreSQL database); ``fedi
serve`` also runs one inside the web process unless told not to. Tests call :meth:`Worker.run_once`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.exc import SQLAlchemyError

from fedi.federation.delivery import DeliveryWorker
from fedi.federation.inbound import InboxProcessor
from fedi.federation.liveness import Liveness
from fedi.instance import InstanceContext
from fedi.partners.expiry import OfferExpiry
from fedi.peers.sync import PeerSync
from fedi.services.mail import MailQueue

__all__ = ["Worker"]

_log = logging.getLogger("fedi.job")


class Worker:
    def __init__(self, context: InstanceContext) -> None:
        self.liveness = Liveness(context.sessions, context.clock)
        self.inbox = InboxProcessor(context)
        self.delivery = DeliveryWorker(
            context.sessions,
            context.client,
            concurrency_per_host=context.settings.delivery_concurrency_per_host,
            clock=context.clock,
            signing_executor=context.signing,
            liveness=self.liveness,
            reads=context.hot_reads,
        )
        # E-mail for notifications: only when FEDI_SMTP_URL names a server.
        self.mail = MailQueue(context)
        self.offers = OfferExpiry(context)
        self.peers = PeerSync(context)
        # What this process's web side commits is worked at once, not at the next poll.
        context.received.listen(self.inbox.wake)
        context.queued.listen(self.delivery.wake)

    async def run_once(self) -> int:
        """Process what is due now, once; returns how many jobs were worked."""
        return (
            await self.inbox.run_once()
            + await self.delivery.run_once()
            + await self.mail.run_once()
            + await self.offers.run_once()
            + await self.peers.run_once()
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Work until ``stop`` is set: registered as a live worker with a heartbeat, inbox and
        deliveries side by side, each supervised; unregistered once stopped cleanly."""
        await self.liveness.register()
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(_supervise("heartbeat", self.liveness.run, stop))
                group.create_task(_supervise("inbox", self.inbox.run, stop))
                group.create_task(_supervise("delivery", self.delivery.run, stop))
                group.create_task(_supervise("offers", self.offers.run, stop))
                group.create_task(_supervise("peers", self.peers.run, stop))
                if self.mail.server is not None:
                    group.create_task(_supervise("mail", self.mail.run, stop))
        finally:
            with contextlib.suppress(SQLAlchemyError):
                await self.liveness.unregister()


async def _supervise(
    name: str, loop: Callable[[asyncio.Event], Awaitable[None]], stop: asyncio.Event
) -> None:
    """Run ``loop`` until ``stop`` is set; when it crashes (a database restart, a bug), log it
    and start it again after a pause that doubles up to a minute, so that the other loop and
    the web server carry on and nothing stops silently."""
    pause = 1.0
    while not stop.is_set():
        try:
            await loop(stop)
        except Exception:
            _log.exception("worker loop crashed", extra={"fields": {"loop": name, "pause": pause}})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=pause)
            pause = min(pause * 2, 60.0)
        else:
            return
