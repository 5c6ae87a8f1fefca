"""Real instances for federation tests: each a uvicorn server on loopback with its own database,
keys and settings, running its worker in the background like ``fedi serve`` does."""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.actors.local import ensure_instance_actors
from fedi.actors.remote import fetch_actor
from fedi.db import migrate
from fedi.db.engine import make_async_engine, make_sessionmaker
from fedi.db.models import Actor, ContentObject
from fedi.federation.vocab import ACTIVITY_JSON as AS2
from fedi.follows import service as follows
from fedi.instance import InstanceContext, build_context
from fedi.net.client import FetchBudget
from fedi.services.members import add_member, find_member
from fedi.services.tokens import issue_token
from fedi.settings import Settings, load_settings
from fedi.testing.server import run_server
from fedi.web import create_app

__all__ = ["Clock", "RunningInstance", "collection_items", "running_instance", "wait_until"]

T = TypeVar("T")


@dataclass
class Clock:
    """A clock that runs with real time plus an offset the test can advance."""

    offset: timedelta = field(default_factory=timedelta)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, delta: timedelta) -> None:
        self.offset += delta


@dataclass
class RunningInstance:
    settings: Settings
    base_url: str
    clock: Clock
    verify: ssl.SSLContext | bool = True  # how clients trust it (a test CA when it serves TLS)

    def run(self, work: Callable[[AsyncSession], Any]) -> Any:
        """Run ``work(session)`` against this instance's database in one committed transaction."""

        async def runner() -> Any:
            engine = make_async_engine(self.settings.database_url)
            try:
                async with make_sessionmaker(engine)() as session, session.begin():
                    return await work(session)
            finally:
                await engine.dispose()

        return asyncio.run(runner())

    def call(self, work: Callable[[InstanceContext], Awaitable[T]]) -> T:
        """Run ``work(context)`` with an instance context of its own (fetches, peering)."""

        async def runner() -> T:
            context = build_context(self.settings)
            try:
                return await work(context)
            finally:
                await context.aclose()

        return asyncio.run(runner())

    def add_member(self, login: str) -> str:
        """Create a member and return a C2S bearer token for it."""

        async def work(session: AsyncSession) -> str:
            await add_member(session, self.settings, login, "a long test password")
            return await issue_token(session, login)

        token: str = self.run(work)
        return token

    def api(self, token: str, method: str, path: str, **kw: Any) -> httpx.Response:
        """Call this instance's JSON API at ``path`` with a member's bearer ``token``."""
        return httpx.request(
            method,
            f"{self.base_url}{path}",
            headers={"Authorization": f"Bearer {token}"},
            verify=self.verify,
            timeout=30,
            **kw,
        )

    def actor_uri(self, login: str) -> str:
        return f"{self.base_url}/users/{login}"

    def post(self, login: str, token: str, body: dict[str, Any]) -> httpx.Response:
        """POST ``body`` to the member's outbox (client-to-server) with its bearer token."""
        return httpx.post(
            f"{self.actor_uri(login)}/outbox",
            json=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": AS2},
            verify=self.verify,
            timeout=30,
        )

    def follow(self, login: str, target_uri: str, *, undo: bool = False) -> None:
        """Make member ``login`` follow (or, with ``undo``, stop following) a remote actor."""

        async def work(session: AsyncSession) -> None:
            context = build_context(self.settings)
            try:
                target = await fetch_actor(context, target_uri, budget=FetchBudget())
            finally:
                await context.aclose()
            member = await find_member(session, login)
            remote = await session.get(Actor, target.id)
            assert remote is not None
            change = follows.unfollow if undo else follows.follow
            await change(session, self.settings, member.actor, remote)

        self.run(work)

    def stored_object(self, uri: str) -> ContentObject | None:
        """The object with ``uri`` as this instance stored it, or ``None``."""

        async def work(session: AsyncSession) -> ContentObject | None:
            return await session.scalar(select(ContentObject).where(ContentObject.uri == uri))

        found: ContentObject | None = self.run(work)
        return found


def collection_items(url: str, verify: ssl.SSLContext | bool = True) -> list[Any]:
    """The items of the first page of a paged collection, fetched as a peer would."""
    response = httpx.get(f"{url}?page=1", headers={"Accept": AS2}, verify=verify, timeout=10)
    response.raise_for_status()
    items: list[Any] = response.json()["orderedItems"]
    return items


@contextmanager
def running_instance(
    directory: Path,
    database_url: str,
    *,
    country: str = "PL",
    worker: bool = True,
    environ: dict[str, str] | None = None,
    sock: socket.socket | None = None,
    tls: tuple[Path, Path] | None = None,
) -> Iterator[RunningInstance]:
    """Migrate ``database_url``, start an instance on a free loopback port and yield it.

    ``sock`` re-uses a bound socket (to restart an instance on the same address); ``tls`` is a
    (certificate, key) pair to serve https.
    """
    owned = sock is None
    if sock is None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    scheme = "https" if tls else "http"
    settings = load_settings(
        {
            "FEDI_DATA_DIR": str(directory),
            "FEDI_DATABASE_URL": database_url,
            "FEDI_BASE_URL": f"{scheme}://localhost:{port}",
            "FEDI_INSTANCE_NAME": f"ESF {country}",
            "FEDI_COUNTRY": country,
            "FEDI_ALLOW_PRIVATE_ADDRESSES": "true",
            **(environ or {}),
        }
    )
    migrate.upgrade(database_url)
    clock = Clock()
    context = build_context(settings)
    context.clock = clock
    instance = RunningInstance(settings, settings.base_url, clock)
    if tls and settings.ca_bundle:
        instance.verify = ssl.create_default_context(cafile=str(settings.ca_bundle))
    instance.run(lambda session: ensure_instance_actors(session, settings))
    app = create_app(settings, context=context, run_worker=worker)
    certificate, key = tls if tls else (None, None)
    try:
        with run_server(app, sock=sock, ssl_certfile=certificate, ssl_keyfile=key):
            yield instance
    finally:
        if owned:
            sock.close()


def wait_until(predicate: Callable[[], T], timeout: float = 15.0, interval: float = 0.05) -> T:
    """Poll ``predicate`` until it returns something truthy; fail with a clear message otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s: {predicate.__name__}")
        time.sleep(interval)
