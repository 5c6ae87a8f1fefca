"""The background worker of one instance: inbox processing and outgoing deliveries.

``fedi worker`` runs it as its own process (several can share a PostgreSQL database); ``fedi
serve`` also runs one inside the web process unless told not to. Tests call :meth:`Worker.run_once`.
"""

from __future__ import annotations

import asyncio

from fedi.federation.delivery import DeliveryWorker
from fedi.federation.inbound import InboxProcessor
from fedi.instance import InstanceContext

__all__ = ["Worker"]


class Worker:
    def __init__(self, context: InstanceContext) -> None:
        self.inbox = InboxProcessor(context)
        self.delivery = DeliveryWorker(
            context.sessions,
            context.client,
            concurrency_per_host=context.settings.delivery_concurrency_per_host,
            clock=context.clock,
        )

    async def run_once(self) -> int:
        """Process what is due now, once; returns how many jobs were worked."""
        return await self.inbox.run_once() + await self.delivery.run_once()

    async def run(self, stop: asyncio.Event) -> None:
        """Work until ``stop`` is set: inbox and deliveries side by side."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self.inbox.run(stop))
            group.create_task(self.delivery.run(stop))
