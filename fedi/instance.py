"""One running instance: settings, database handles and HTTP client, shared by web and workers."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.requests import Request

from fedi import __version__
from fedi.db.engine import make_async_engine, make_sessionmaker
from fedi.db.group_insert import GroupInsert
from fedi.db.hot_reads import HotReads
from fedi.db.models import Activity
from fedi.net.client import FetchPolicy, SafeClient
from fedi.net.ratelimit import FetchSlots, HostRateLimiter
from fedi.settings import Settings

__all__ = [
    "DELIVERIES_QUEUED",
    "Doorbell",
    "InstanceContext",
    "build_context",
    "context_of",
    "signing_threads",
    "utc_clock",
]


def utc_clock() -> datetime:
    return datetime.now(UTC)


def signing_threads() -> ThreadPoolExecutor:
    """One signing thread per core, up to four; started on first use."""
    return ThreadPoolExecutor(min(os.cpu_count() or 1, 4), thread_name_prefix="fedi-signing")


# Set in a session's ``info`` when it queued deliveries: its commit rings ``queued``.
DELIVERIES_QUEUED = "fedi.deliveries_queued"


class Doorbell:
    """Rung when work for a loop of this process's worker was committed here, so that the loop
    starts on it at once instead of at its next poll (work committed by another process, a
    ``fedi`` command or a second worker, waits for the poll). Rung and heard on the loop's
    thread."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[], None]] = []

    def listen(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def ring(self) -> None:
        for listener in self._listeners:
            listener()


@dataclass
class InstanceContext:
    """Everything the handlers and workers of one instance share."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    client: SafeClient
    # The inbox's group commit of accepted activities (fedi.federation.inbox_store).
    inbox_writes: GroupInsert
    # Reads on the inbox's request path (fedi.federation.acceptance).
    hot_reads: HotReads
    clock: Callable[[], datetime] = field(default=utc_clock)
    key_refetches: HostRateLimiter = field(default_factory=HostRateLimiter)
    # First-contact key fetches in flight (the inbox and signed GETs answer 503 past them).
    key_fetches: FetchSlots = field(default_factory=FetchSlots)
    # Threads for the private-key operations of deliveries (they release the interpreter lock).
    signing: ThreadPoolExecutor = field(default_factory=signing_threads)
    # Rung when the inbox recorded an activity, and when deliveries were committed.
    received: Doorbell = field(default_factory=Doorbell)
    queued: Doorbell = field(default_factory=Doorbell)

    async def aclose(self) -> None:
        self.signing.shutdown(wait=False)
        await self.inbox_writes.aclose()
        self.hot_reads.close()
        await self.client.aclose()
        await self.engine.dispose()


def fetch_policy(settings: Settings) -> FetchPolicy:
    return FetchPolicy(
        user_agent=f"Transnationality/{__version__} (+{settings.base_url})",
        private_networks=settings.private_networks,
        allow_http=settings.allow_private_addresses,
        ca_bundle=settings.ca_bundle,
        proxy=settings.http_proxy,
        per_host_connections=max(settings.delivery_concurrency_per_host, 4),
    )


def build_context(settings: Settings, *, client: SafeClient | None = None) -> InstanceContext:
    """Engine, sessions and safe HTTP client of one instance (``client`` injectable for tests)."""
    engine = make_async_engine(settings.database_url)
    queued = Doorbell()

    def committed(info: dict[str, object]) -> None:
        if info.pop(DELIVERIES_QUEUED, False):
            queued.ring()

    return InstanceContext(
        settings=settings,
        engine=engine,
        sessions=make_sessionmaker(engine, after_commit=committed),
        queued=queued,
        client=client or SafeClient(fetch_policy(settings)),
        inbox_writes=GroupInsert(engine, settings.database_url, Activity.__table__, "uri"),  # type: ignore[arg-type]
        hot_reads=HotReads(settings.database_url, engine),
    )


def context_of(request: Request) -> InstanceContext:
    context: InstanceContext = request.app.state.instance
    return context
