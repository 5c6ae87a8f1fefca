"""The inbox's fast lane: it answers the common case itself and hands everything else, body
intact, to the full path, which gives the answer."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from fedi.db.models import Activity
from fedi.testing.peers import AS2, PUBLIC, FakeActor, InboxHarness, alice, note
from fedi.web import inbox as full_path
from fedi.web import inbox_lane as lane


def create(actor: FakeActor, name: str) -> dict[str, Any]:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"https://{actor.host}/activities/{name}",
        "type": "Create",
        "actor": actor.uri,
        "to": [PUBLIC],
        "object": note(actor, name),
    }


@pytest.fixture
def full_path_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The activity ids the full path was asked to accept."""
    calls: list[str] = []
    accept = full_path._accept

    async def counting(*args: Any) -> bool:
        calls.append(args[4].id)  # the shape
        return await accept(*args)

    monkeypatch.setattr(full_path, "_accept", counting)
    return calls


async def stored(h: InboxHarness, uri: str) -> dict[str, Any] | None:
    async with h.ctx.sessions() as session:
        document: dict[str, Any] | None = await session.scalar(
            select(Activity.document).where(Activity.uri == uri)
        )
        return document


async def test_a_known_signer_is_answered_by_the_lane(
    h: InboxHarness, full_path_calls: list[str]
) -> None:
    sender = alice()
    first, second = create(sender, "1"), create(sender, "2")
    assert (await h.deliver(sender, first)).status_code == 202
    assert full_path_calls == [first["id"]]  # the key was unknown: the full path fetched it
    response = await h.deliver(sender, second)
    assert response.status_code == 202
    assert response.headers["x-request-id"]
    assert full_path_calls == [first["id"]]  # the lane recorded the second one
    assert await stored(h, second["id"]) == second


async def test_a_replay_goes_to_the_full_path(h: InboxHarness, full_path_calls: list[str]) -> None:
    sender = alice()
    activity = create(sender, "1")
    for _ in range(3):
        assert (await h.deliver(sender, activity)).status_code == 202
    assert full_path_calls == [activity["id"]] * 3


async def test_a_body_sent_in_pieces_is_read_whole(
    h: InboxHarness, full_path_calls: list[str]
) -> None:
    sender = alice()
    assert (await h.deliver(sender, create(sender, "warm"))).status_code == 202
    activity = create(sender, "pieces")
    body = json.dumps(activity).encode()
    headers = sender.sign(
        "POST",
        h.url("/inbox"),
        body,
        now=h.ctx.clock(),
        headers={"Content-Type": "application/activity+json"},
    )

    async def pieces() -> Any:
        for start in range(0, len(body), 7):
            yield body[start : start + 7]

    transport = httpx.ASGITransport(app=h.app)
    async with httpx.AsyncClient(transport=transport, base_url=h.settings.base_url) as client:
        response = await client.post("/inbox", content=pieces(), headers=headers)
    assert response.status_code == 202, response.text
    assert await stored(h, activity["id"]) == activity
    assert full_path_calls == [create(sender, "warm")["id"]]


async def test_a_body_over_the_cap_reaches_the_full_path_whole(
    h: InboxHarness, full_path_calls: list[str]
) -> None:
    sender = alice()
    big = create(sender, "big")
    big["object"]["content"] = "x" * (full_path.MAX_BODY + 10)
    body = json.dumps(big).encode()

    async def pieces() -> Any:
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    transport = httpx.ASGITransport(app=h.app)
    async with httpx.AsyncClient(transport=transport, base_url=h.settings.base_url) as client:
        response = await client.post(
            "/inbox", content=pieces(), headers={"Content-Type": "application/activity+json"}
        )
    assert response.status_code == 413
    assert await stored(h, big["id"]) is None


async def test_a_body_over_the_cap_in_one_message_is_refused_by_the_full_path(
    h: InboxHarness, full_path_calls: list[str]
) -> None:
    """A server may hand the whole body over at once (uvicorn does when the application reads
    it late): the lane leaves it to the full path all the same."""
    sender = alice()
    assert (await h.deliver(sender, create(sender, "small"))).status_code == 202  # key cached
    big = create(sender, "big")
    big["object"]["content"] = "x" * (full_path.MAX_BODY + 10)
    body = json.dumps(big).encode()
    signed = sender.sign(
        "POST", h.url("/inbox"), body, now=h.ctx.clock(), headers={"Content-Type": AS2}
    )
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "https",
        "path": "/inbox",
        "raw_path": b"/inbox",
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in signed.items()],
        "client": ("127.0.0.1", 4000),
        "server": ("esf.test", 443),
        "state": {},
    }
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    statuses: list[int] = []

    async def receive() -> Any:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await h.app(scope, receive, send)
    assert statuses == [413]
    assert await stored(h, big["id"]) is None


async def test_refusals_come_from_the_full_path(
    h: InboxHarness, full_path_calls: list[str]
) -> None:
    sender = alice()
    assert (await h.deliver(sender, create(sender, "warm"))).status_code == 202
    # Unsigned, wrong content type, a personal inbox without an owner: the lane passes them on.
    body = json.dumps(create(sender, "x")).encode()
    unsigned = await h.post("/inbox", body, {"Content-Type": "application/activity+json"})
    assert unsigned.status_code == 401
    wrong_type = await h.deliver(sender, create(sender, "y"), content_type="text/plain")
    assert wrong_type.status_code == 415
    nobody = await h.deliver(sender, create(sender, "z"), path="/users/nobody/inbox")
    assert nobody.status_code == 404
    for uri in ("x", "y", "z"):
        assert await stored(h, create(sender, uri)["id"]) is None


async def test_other_requests_pass_through(h: InboxHarness) -> None:
    transport = httpx.ASGITransport(app=h.app)
    async with httpx.AsyncClient(transport=transport, base_url=h.settings.base_url) as client:
        assert (await client.get("/inbox")).status_code == 405
        assert (await client.post("/users/anna/outbox", content=b"{}")).status_code == 404


async def test_an_error_in_the_lane_is_answered_500_and_logged(
    h: InboxHarness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*args: Any) -> bool:
        raise RuntimeError("database gone")

    monkeypatch.setattr(lane, "try_record", broken)
    sender = alice()
    transport = httpx.ASGITransport(app=h.app, raise_app_exceptions=False)
    body = json.dumps(create(sender, "1")).encode()
    headers = sender.sign(
        "POST", h.url("/inbox"), body, now=h.ctx.clock(), headers={"Content-Type": AS2}
    )
    with caplog.at_level(logging.INFO, logger="fedi.request"):
        async with httpx.AsyncClient(transport=transport, base_url=h.settings.base_url) as c:
            response = await c.post("/inbox", content=body, headers=headers)
    assert response.status_code == 500
    assert response.text == "Internal Server Error"  # answered by the lane, not the transport
    assert response.headers["x-request-id"]
    lines = [r for r in caplog.records if r.name == "fedi.request"]
    assert [r.fields["status"] for r in lines] == [500]  # type: ignore[attr-defined]
