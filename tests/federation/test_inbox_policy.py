"""The inbox's acceptance policy: one list of conditions for every signer, scheme and inbox;
refusals at the door; and no database connection held while a key is fetched."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette

from fedi.db.models import Activity, Actor
from fedi.federation.acceptance import Condition, Incoming, Verdict
from fedi.federation.conditions import INBOX_POLICY, KEY_FETCH_RETRY_AFTER
from fedi.instance import build_context
from fedi.testing.peers import PUBLIC, FakeActor, InboxHarness, alice, note
from fedi.web import create_app
from tests.conftest import make_settings

AS2 = "application/activity+json"
ANNA = "https://esf.test/users/anna"


def follow(actor: FakeActor, name: str) -> dict[str, Any]:
    return {
        "id": f"https://{actor.host}/activities/{name}",
        "type": "Follow",
        "actor": actor.uri,
        "object": ANNA,
    }


async def post(app: Starlette, path: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://esf.test") as client:
        return await client.post(path, content=body, headers=headers)


async def send(
    h: InboxHarness, app: Starlette, document: dict[str, Any], path: str, scheme: str
) -> httpx.Response:
    body = json.dumps(document).encode()
    headers = alice().sign(
        "POST", h.url(path), body, now=h.ctx.clock(), scheme=scheme, headers={"Content-Type": AS2}
    )
    return await post(app, path, body, headers)


# A condition added to the policy applies to every signer, scheme and inbox ----------------------


async def refuse_move(incoming: Incoming) -> Verdict | None:
    return Verdict(403, "Move is not accepted here") if incoming.activity.type == "Move" else None


@pytest.mark.parametrize("scheme", ["draft-cavage", "rfc9421"])
@pytest.mark.parametrize("path", ["/inbox", "/users/anna/inbox"])
async def test_an_added_condition_applies_to_cold_and_warm_signers(
    h: InboxHarness, scheme: str, path: str
) -> None:
    policy = INBOX_POLICY.adding(Condition("no_move", refuse_move))
    app = create_app(h.settings, context=h.ctx, inbox_policy=policy)
    move = {
        "id": "https://alice.test/activities/move",
        "type": "Move",
        "actor": alice().uri,
        "object": alice().uri,
        "target": "https://bob.test/users/bob",
    }
    # Cold: the key is fetched to verify, then the condition refuses; nothing is kept.
    before = await h.counts()
    refused = await send(h, app, move, path, scheme)
    assert refused.status_code == 403 and refused.json()["error"] == "Move is not accepted here"
    assert h.peers.fetched("alice.test")
    assert await h.counts() == before
    # Warm: a Follow caches the key; the same Move is still refused, and changes nothing.
    assert (await send(h, app, follow(alice(), "warm"), path, scheme)).status_code == 202
    fetches = len(h.peers.requests)
    before = await h.counts()
    refused = await send(h, app, move, path, scheme)
    assert refused.status_code == 403 and refused.json()["error"] == "Move is not accepted here"
    assert len(h.peers.requests) == fetches  # answered from the cached key
    assert await h.counts() == before


def test_the_policy_lists_its_conditions_in_order() -> None:
    names = INBOX_POLICY.names
    assert names[:3] == ["content_type", "body_size", "json_shape"]
    assert names.index("domain_not_blocked") < names.index("signature")  # no fetch when blocked
    assert names.index("signature") < names.index("signer_is_actor") < names.index("not_seen")
    added = INBOX_POLICY.adding(Condition("no_move", refuse_move), before="signature")
    assert added.names.index("no_move") == names.index("signature")
    assert INBOX_POLICY.names == names  # adding makes a new policy


# Refused at the door, stored nothing -------------------------------------------------------------


def create(obj: dict[str, Any], name: str) -> dict[str, Any]:
    return {
        "id": f"https://alice.test/activities/{name}",
        "type": "Create",
        "actor": alice().uri,
        "object": obj,
        "to": [PUBLIC],
    }


_NOTE = note(alice(), "n1")
_BAD_DOCUMENTS = {
    "surrogate-in-id": follow(alice(), "x") | {"id": "https://alice.test/activities/\ud800"},
    "surrogate-in-content": create(_NOTE | {"content": "<p>\udfff</p>"}, "c1"),
    "surrogate-in-key": create(_NOTE | {"\ud83d": "x"}, "c2"),
    "crlf-in-object": follow(alice(), "f2") | {"object": f"{ANNA}\r\nX-Injected: 1"},
    "space-in-object-id": create(_NOTE | {"id": "https://alice.test/notes/a b"}, "c3"),
    "tab-in-url": create(_NOTE | {"url": "https://alice.test/@alice/1\t"}, "c4"),
    "lf-in-link-href": create(_NOTE | {"url": [{"href": "https://alice.test/\n"}]}, "c5"),
    "relative-reply": create(_NOTE | {"inReplyTo": "notes/parent"}, "c6"),
    "control-in-author": create(_NOTE | {"attributedTo": f"{alice().uri}\x7f"}, "c7"),
    "cr-in-magnet-url": create(_NOTE | {"url": [{"href": "magnet:?xt=1\r\n"}]}, "c8"),
}


@pytest.mark.parametrize("warm", [False, True], ids=["cold", "warm"])
@pytest.mark.parametrize("case", list(_BAD_DOCUMENTS))
async def test_bad_text_and_iris_are_refused_at_the_door(
    h: InboxHarness, case: str, warm: bool
) -> None:
    if warm:
        assert (await h.deliver(alice(), follow(alice(), "warm"))).status_code == 202
    before = await h.counts()
    response = await h.deliver(alice(), _BAD_DOCUMENTS[case])
    assert response.status_code == 400, response.text
    assert await h.counts() == before
    if not warm:
        assert h.peers.requests == []  # refused before the key was even fetched


async def test_a_url_of_another_scheme_is_accepted(h: InboxHarness) -> None:
    links = [{"href": "https://alice.test/videos/1"}, {"href": "magnet:?xt=urn:btih:abc"}]
    response = await h.deliver(alice(), create(_NOTE | {"url": links}, "magnet"))
    assert response.status_code == 202, response.text


# No connection held while a key is fetched; key fetches bounded ---------------------------------


class StallingKeyServers:
    """HTTP servers on several loopback addresses that answer nothing until released, then 404.

    ``asked`` counts the requests they received."""

    def __init__(self) -> None:
        self.released = asyncio.Event()
        self.asked = 0
        self.servers: list[asyncio.Server] = []

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            self.asked += 1
            await self.released.wait()
            writer.write(
                b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def start(self, hosts: list[str]) -> list[str]:
        """One server per host; the base URLs, in order."""
        bases = []
        for host in hosts:
            server = await asyncio.start_server(self._answer, host, 0)
            self.servers.append(server)
            bases.append(f"http://{host}:{server.sockets[0].getsockname()[1]}")
        return bases

    async def stop(self) -> None:
        self.released.set()
        for server in self.servers:
            server.close()
            await server.wait_closed()


@pytest.fixture
async def stalling() -> AsyncIterator[StallingKeyServers]:
    servers = StallingKeyServers()
    try:
        yield servers
    finally:
        await servers.stop()


async def wait_until(predicate: Any, within: float = 10.0) -> None:
    give_up_at = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < give_up_at, "condition not reached in time"
        await asyncio.sleep(0.02)


async def test_stalling_key_servers_hold_no_connection_and_take_bounded_slots(
    tmp_path: Path, migrated_url: str, stalling: StallingKeyServers
) -> None:
    settings = make_settings(tmp_path / "var", migrated_url, FEDI_ALLOW_PRIVATE_ADDRESSES="on")
    ctx = build_context(settings)
    app = create_app(settings, context=ctx)
    bases = await stalling.start([f"127.0.0.{n}" for n in range(1, 6)])
    try:
        requests = []
        for n in range(16):
            actor = f"{bases[n % len(bases)]}/users/u{n}"
            document = {"id": f"{actor}/follow", "type": "Follow", "actor": actor, "object": ANNA}
            body = json.dumps(document).encode()
            headers = alice().sign(
                "POST",
                "https://esf.test/inbox",
                body,
                now=ctx.clock(),
                key_id=f"{actor}#main-key",
                headers={"Content-Type": AS2},
            )
            requests.append(asyncio.create_task(post(app, "/inbox", body, headers)))
        # 5 hosts, at most 2 fetches each and 8 in all: 8 hang, the other 8 are answered now.
        await wait_until(lambda: stalling.asked == 8 and sum(t.done() for t in requests) == 8)
        answered = [task.result() for task in requests if task.done()]
        assert {response.status_code for response in answered} == {503}
        assert all(r.headers["retry-after"] == str(KEY_FETCH_RETRY_AFTER) for r in answered)
        # While they hang: no database connection is checked out, and /readyz answers at once.
        assert ctx.engine.sync_engine.pool.checkedout() == 0
        started = time.monotonic()
        paths = ["/readyz", "/"] * 8  # health and an HTML page that reads the database
        answers = await asyncio.gather(*(asyncio.create_task(_get(app, p)) for p in paths))
        assert all(response.status_code == 200 for response in answers)
        assert time.monotonic() - started < 1.0
        assert stalling.asked == 8 and not all(task.done() for task in requests)
        # Released: the keys are not found, the hanging requests are refused, nothing stored.
        stalling.released.set()
        finished = await asyncio.gather(*requests)
        assert sorted(response.status_code for response in finished) == [401] * 8 + [503] * 8
        assert ctx.key_fetches.acquire("127.0.0.1:1")  # every slot was given back
        async with ctx.sessions() as session:
            stored = await session.scalar(select(func.count()).select_from(Activity))
            actors = await session.scalar(select(func.count()).select_from(Actor))
        assert stored == 0 and actors == 0
    finally:
        await ctx.aclose()


async def _get(app: Starlette, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://esf.test") as client:
        return await client.get(path)
