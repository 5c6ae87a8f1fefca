"""``GET /api/v1/lookup``: local and remote objects and actors in one shape, 404 for what is not
held, 422 for a bad id, and ``resolve=true`` fetching for signed-in members only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from fedi.cli.common import run_in_session
from fedi.content import service as content
from fedi.db.models import Actor, Role
from fedi.federation.shapes import read_object
from fedi.services.members import add_member
from fedi.services.tokens import issue_token
from fedi.settings import Settings
from fedi.testing.peers import PUBLIC, FakePeers, InboxHarness, alice, inbox_harness, note
from tests.web.api.conftest import Api, openapi_document

REMOTE = {
    "id": "https://alice.test/notes/77",
    "type": "Note",
    "url": "https://alice.test/@alice/77",
    "attributedTo": "https://esf.test/users/anna",
    "inReplyTo": "https://esf.test/objects/1",
    "context": "https://alice.test/contexts/1",
    "content": "<p>Hi <script>x</script>there</p>",
    "contentMap": {"fr": "<p>Hi there</p>"},
    "summary": "CW",
    "sensitive": True,
    "to": [PUBLIC],
    "published": "2024-05-01T11:00:00Z",
    "tag": [
        {"type": "Hashtag", "name": "#ESF"},
        {"type": "Mention", "href": "https://esf.test/users/anna"},
        {"type": "Emoji", "name": ":ok:", "icon": {"url": "https://alice.test/ok.png"}},
    ],
    "attachment": [{"type": "Image", "url": "https://alice.test/a.png", "name": "alt text"}],
}


def store(settings: Settings, document: dict[str, Any], *, public: bool = True) -> None:
    async def work(session: Any) -> None:
        author = await session.scalar(select(Actor).where(Actor.username == "anna"))
        row = content.create(
            session, read_object(document), document, author_id=author.id, local=False
        )
        row.public = public

    run_in_session(settings, work)


def test_a_stored_object_is_looked_up_by_id_and_by_url(api: Api, settings: Settings) -> None:
    store(settings, REMOTE)
    for ident in (REMOTE["id"], REMOTE["url"]):
        response = api.client.get("/api/v1/lookup", params={"id": ident})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["id"] == REMOTE["id"] and body["type"] == "reply"
        assert body["origin"] == "alice.test" and body["local"] is False
        assert body["author"] == "https://esf.test/users/anna"
        assert body["language"] == "fr" and body["sensitive"] is True
        assert body["summary"] == "CW" and "<script>" not in body["content_html"]
        assert body["tags"] == ["esf"] and body["mentions"] == ["https://esf.test/users/anna"]
        assert body["emojis"] == [
            {"shortcode": "ok", "url": "https://alice.test/ok.png", "media_type": None}
        ]
        assert body["attachments"] == [
            {"url": "https://alice.test/a.png", "media_type": None, "description": "alt text"}
        ]
        assert body["in_reply_to"] == "https://esf.test/objects/1"
        assert body["context"] == "https://alice.test/contexts/1"
        assert body["published"] == "2024-05-01T11:00:00Z" and body["updated"] is None
    assert api.checker.checked == 2


def test_actors_are_looked_up_too(api: Api) -> None:
    body = api.client.get("/api/v1/lookup", params={"id": "https://esf.test/users/anna"}).json()
    assert (body["type"], body["local"], body["origin"]) == ("person", True, "esf.test")


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"id": "https://nowhere.test/x"}, 404),
        ({}, 422),
        ({"id": "not a url"}, 422),
        ({"id": "https://" + "a" * 300 + ".test/x"}, 404),
        ({"id": "ftp://a.test/x"}, 422),
        ({"id": "https://a.test/" + "x" * 3000}, 422),
        ({"id": "https://a.test/x", "resolve": "maybe"}, 422),
        ({"id": "https://a.test/x", "resolve": "true"}, 401),
    ],
)
def test_refusals(api: Api, params: dict[str, str], status: int) -> None:
    response = api.client.get("/api/v1/lookup", params=params)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"


def test_private_and_deleted_objects_are_not_answered(api: Api, settings: Settings) -> None:
    store(settings, REMOTE | {"id": "https://alice.test/notes/private"}, public=False)
    response = api.client.get("/api/v1/lookup", params={"id": "https://alice.test/notes/private"})
    assert response.status_code == 404


def test_the_route_is_documented() -> None:
    operation = openapi_document()["paths"]["/api/v1/lookup"]["get"]
    assert {"200", "401", "404", "422"} <= set(operation["responses"])


@pytest.fixture
async def h(settings: Settings) -> AsyncIterator[InboxHarness]:
    peers = FakePeers()
    peers.add(alice())
    harness = await inbox_harness(settings, peers)
    try:
        yield harness
    finally:
        await harness.aclose()


async def test_resolve_fetches_what_is_not_held_for_a_member(h: InboxHarness) -> None:
    remote = note(alice(), "r1", tag=[{"type": "Hashtag", "name": "#Fetched"}])
    h.peers.serve(remote["id"], remote)
    async with h.ctx.sessions() as session, session.begin():
        await add_member(session, h.settings, "nina", "a long test password", Role.MEMBER)
        token = await issue_token(session, "nina")
    transport = httpx.ASGITransport(app=h.app)
    async with httpx.AsyncClient(transport=transport, base_url=h.settings.base_url) as client:
        plain = await client.get("/api/v1/lookup", params={"id": remote["id"]})
        assert plain.status_code == 404  # not held, and nobody asked to fetch it
        auth = {"Authorization": f"Bearer {token}"}
        params = {"id": remote["id"], "resolve": "true"}
        fetched = await client.get("/api/v1/lookup", params=params, headers=auth)
        assert fetched.status_code == 200, fetched.text
        assert fetched.json()["tags"] == ["fetched"]
        again = await client.get("/api/v1/lookup", params={"id": remote["id"]})
        assert again.status_code == 200
        missing = {"id": "https://alice.test/notes/none", "resolve": "true"}
        gone = await client.get("/api/v1/lookup", params=missing, headers=auth)
        assert gone.status_code == 404
