"""Inbox processing works origins side by side: a peer whose fetches stall delays only itself."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from fedi.db.models import Activity, ActivityState, Actor
from fedi.federation.inbound import InboxProcessor
from fedi.instance import InstanceContext, build_context
from fedi.settings import Settings
from fedi.testing.delivery_worker import loopback_client
from fedi.testing.peers import remote_actor_row


class StallingServer:
    """A loopback TCP server that accepts connections and never answers on them."""

    def __init__(self) -> None:
        self.connections = 0
        self._held: list[asyncio.StreamWriter] = []

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._held.append(writer)

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def close(self) -> None:
        for writer in self._held:
            writer.close()
        self._server.close()
        await self._server.wait_closed()


@pytest.fixture
async def stalling() -> AsyncIterator[tuple[StallingServer, int]]:
    server = StallingServer()
    port = await server.start()
    try:
        yield server, port
    finally:
        await server.close()


async def wait_for(predicate: Any, within: float = 10.0) -> float:
    """Poll the async ``predicate`` until it is true; return the seconds it took."""
    started = time.monotonic()
    while not await predicate():
        if time.monotonic() - started > within:
            raise AssertionError(f"not within {within} s: {predicate.__name__}")
        await asyncio.sleep(0.01)
    return time.monotonic() - started


async def add_actor(ctx: InstanceContext, host: str) -> Actor:
    async with ctx.sessions() as session, session.begin():
        actor = remote_actor_row(host, "x")
        session.add(actor)
    return actor


async def add_activity(ctx: InstanceContext, actor: Actor, name: str, obj: Any) -> str:
    uri = f"https://{actor.domain}/activities/{name}"
    document = {"id": uri, "type": "Create" if obj else "Like", "actor": actor.uri}
    document["object"] = obj or f"https://{actor.domain}/notes/liked"
    async with ctx.sessions() as session, session.begin():
        session.add(
            Activity(
                uri=uri,
                type=document["type"],
                actor_id=actor.id,
                state=ActivityState.RECEIVED,
                document=document,
            )
        )
    return uri


async def state_of(ctx: InstanceContext, uri: str) -> ActivityState | None:
    async with ctx.sessions() as session:
        return await session.scalar(select(Activity.state).where(Activity.uri == uri))


async def test_stalling_fetches_do_not_delay_another_peers_activity(
    settings: Settings, stalling: tuple[StallingServer, int]
) -> None:
    server, port = stalling
    # Every host name resolves to the stalling server; the fetch deadline (30 s) is far away.
    async with loopback_client(4, timeout=30.0) as client:
        ctx = build_context(settings, client=client)
        try:
            slow_a = await add_actor(ctx, f"slow-a.test:{port}")
            slow_b = await add_actor(ctx, f"slow-b.test:{port}")
            quick = await add_actor(ctx, f"quick.test:{port}")
            stalled = [
                await add_activity(ctx, actor, "c1", f"https://{actor.domain}/notes/1")
                for actor in (slow_a, slow_b)
            ]
            # Received after slow-a's stalled Create: worked after it, in order.
            behind = await add_activity(ctx, slow_a, "l1", None)
            stop = asyncio.Event()
            processor = InboxProcessor(ctx, poll_interval=0.05)
            task = asyncio.create_task(processor.run(stop))
            try:

                async def both_stalled() -> bool:
                    return server.connections == 2

                await wait_for(both_stalled)
                note = {
                    "id": f"https://{quick.domain}/notes/1",
                    "type": "Note",
                    "attributedTo": quick.uri,
                    "content": "<p>on time</p>",
                }
                third = await add_activity(ctx, quick, "c1", note)

                async def third_processed() -> bool:
                    return await state_of(ctx, third) is ActivityState.PROCESSED

                assert await wait_for(third_processed) < 1.0
                for uri in (*stalled, behind):
                    assert await state_of(ctx, uri) is ActivityState.RECEIVED
            finally:
                stop.set()
                await asyncio.wait_for(task, timeout=5)
            # Stopping abandons the stalled work: nothing is lost, it is worked again later.
            for uri in (*stalled, behind):
                assert await state_of(ctx, uri) is ActivityState.RECEIVED
        finally:
            await ctx.aclose()
