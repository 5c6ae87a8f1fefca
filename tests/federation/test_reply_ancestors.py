"""A received reply's missing ancestors are fetched after it is stored, within the fetch budget
and the deadline: from fake peers through the inbox, and from a real loopback server that serves
a chain of three ancestors or stalls."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import replace
from typing import Any

import anyio
import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fedi.actors.local import ensure_instance_actors
from fedi.content.ancestors import fetch_ancestors
from fedi.db.models import ActivityState, ContentObject
from fedi.instance import InstanceContext, build_context
from fedi.net import LOOPBACK_NETWORKS, FetchPolicy, SafeClient
from fedi.settings import Settings
from fedi.testing.peers import PUBLIC, FakeActor, InboxHarness, alice, note
from fedi.testing.server import run_server
from tests.federation.test_inbound import activity, receive

AS2 = "application/activity+json"


def chain(actor: FakeActor, base: str, length: int) -> list[dict[str, Any]]:
    """Notes ``base/notes/0`` (the thread start) to ``base/notes/{length}``, each replying to
    the one before."""
    notes = []
    for n in range(length + 1):
        extra = {"inReplyTo": f"{base}/notes/{n - 1}"} if n else {}
        notes.append(
            note(
                actor, str(n), id=f"{base}/notes/{n}", attributedTo=f"{base}/users/{actor.username}"
            )
            | extra
        )
    return notes


async def object_uris(ctx: InstanceContext) -> set[str]:
    async with ctx.sessions() as session:
        return set((await session.scalars(select(ContentObject.uri))).all())


async def test_a_reply_brings_its_three_ancestors(h: InboxHarness) -> None:
    base = f"https://{alice().host}"
    notes = chain(alice(), base, 3)
    for item in notes[:3]:
        h.peers.serve(item["id"], item)
    row = await receive(h, alice(), activity(alice(), "Create", notes[3], "c3", to=[PUBLIC]))
    assert row.state is ActivityState.PROCESSED, row.error
    assert {n["id"] for n in notes} <= await object_uris(h.ctx)
    async with h.ctx.sessions() as session:
        start = await session.scalar(
            select(ContentObject).where(ContentObject.uri == notes[0]["id"])
        )
    assert start is not None and start.in_reply_to is None and not start.local


async def test_the_walk_stops_at_the_budget_and_at_a_held_ancestor(
    h: InboxHarness,
) -> None:
    base = f"https://{alice().host}"
    notes = chain(alice(), base, 5)
    for item in notes[:5]:
        h.peers.serve(item["id"], item)
    h.ctx.settings = replace(h.settings, reply_fetch_limit=2)
    await receive(h, alice(), activity(alice(), "Create", notes[5], "c5"))
    held = await object_uris(h.ctx)
    assert {notes[5]["id"], notes[4]["id"], notes[3]["id"]} <= held
    assert notes[2]["id"] not in held
    # The next reply to 3 finds 3 held: nothing more is fetched.
    before = len(h.peers.fetched())
    reply = note(alice(), "r", inReplyTo=notes[3]["id"])
    await receive(h, alice(), activity(alice(), "Create", reply, "cr"))
    assert len(h.peers.fetched()) == before


async def test_an_ancestor_served_under_another_id_is_not_stored(h: InboxHarness) -> None:
    base = f"https://{alice().host}"
    parent = note(alice(), "p")
    h.peers.serve(parent["id"], parent | {"id": f"{base}/notes/elsewhere"})
    reply = note(alice(), "r", inReplyTo=parent["id"])
    row = await receive(h, alice(), activity(alice(), "Create", reply, "c1"))
    assert row.state is ActivityState.PROCESSED
    held = await object_uris(h.ctx)
    assert reply["id"] in held and parent["id"] not in held
    assert f"{base}/notes/elsewhere" not in held


# A real server on loopback ------------------------------------------------------------------


class Peer:
    """Serves a person, a chain of notes, and a note that never answers in time."""

    def __init__(self) -> None:
        self.base = ""
        self.documents: dict[str, dict[str, Any]] = {}
        self.signed: list[bool] = []

        async def document(request: Request) -> Response:
            self.signed.append("signature" in request.headers)
            if request.url.path == "/notes/stall":
                await asyncio.sleep(30)
            found = self.documents.get(request.url.path)
            if found is None:
                return Response(status_code=404)
            return JSONResponse(found, media_type=AS2)

        self.app = Starlette(
            routes=[Route("/{path:path}", document)],
        )

    def publish(self, base: str) -> list[dict[str, Any]]:
        self.base = base
        person = FakeActor(base.split("://", 1)[1], "pat", alice().key)
        text = json.dumps(person.document()).replace(f"https://{person.host}", base)
        self.documents["/users/pat"] = json.loads(text)
        notes = chain(person, base, 3)
        for item in notes[:3]:
            self.documents[item["id"].removeprefix(base)] = item
        self.documents["/notes/after-stall"] = note(
            person,
            "x",
            id=f"{base}/notes/after-stall",
            attributedTo=f"{base}/users/pat",
            inReplyTo=f"{base}/notes/stall",
        )
        return notes


@pytest.fixture(scope="module")
def loopback_peer() -> Iterator[Peer]:
    peer = Peer()
    with run_server(peer.app) as base:
        port = base.rsplit(":", 1)[1]
        peer.publish(f"http://peer.test:{port}")
        yield peer


async def _loopback(host: str, port: int) -> Sequence[str]:
    if host.endswith(".test"):
        return ["127.0.0.1"]
    raise OSError(f"unknown host {host}")


@pytest.fixture
async def ctx(settings: Settings) -> AsyncIterator[InstanceContext]:
    policy = FetchPolicy(
        user_agent="fedi-test/1.0", private_networks=LOOPBACK_NETWORKS, allow_http=True
    )
    client = SafeClient(policy, resolver=_loopback)
    context = build_context(replace(settings, reply_fetch_deadline=2), client=client)
    async with context.sessions() as session, session.begin():
        await ensure_instance_actors(session, context.settings)
    try:
        yield context
    finally:
        await context.aclose()


async def test_a_chain_of_three_from_a_real_server(
    ctx: InstanceContext, loopback_peer: Peer
) -> None:
    base = loopback_peer.base
    walk = await fetch_ancestors(ctx, f"{base}/notes/2")
    assert walk.stored == [f"{base}/notes/2", f"{base}/notes/1", f"{base}/notes/0"]
    assert walk.stopped == "thread start"
    assert loopback_peer.signed and all(loopback_peer.signed)
    async with ctx.sessions() as session:
        count = await session.scalar(select(func.count()).select_from(ContentObject))
    assert count == 3


async def test_a_stalling_server_is_given_up_at_the_deadline(
    ctx: InstanceContext, loopback_peer: Peer
) -> None:
    base = loopback_peer.base
    with anyio.fail_after(10):
        walk = await fetch_ancestors(ctx, f"{base}/notes/after-stall")
    # The first ancestor was stored; the stalled one ended the walk, within the deadline.
    assert walk.stored == [f"{base}/notes/after-stall"]
    assert walk.stopped == "deadline"
