"""The worker's periodic job that marks offers expired once their ``expires`` day has passed."""

from __future__ import annotations

import asyncio
import contextlib

from fedi.instance import InstanceContext
from fedi.partners.offers import expire_due

__all__ = ["OfferExpiry"]

# How often the worker looks for offers past their day (seconds).
POLL = 300.0


class OfferExpiry:
    def __init__(self, context: InstanceContext, *, poll: float = POLL) -> None:
        self.context = context
        self.poll = poll

    async def run_once(self) -> int:
        """Expire what is due today (the instance clock's UTC date); how many expired."""
        today = self.context.clock().date()
        async with self.context.sessions.begin() as session:
            return await expire_due(session, self.context.settings, today=today)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.run_once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.poll)
