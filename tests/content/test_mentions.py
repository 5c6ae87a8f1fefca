"""Mentions written here: handles found in text, resolved locally, from the cache, or through
WebFinger; what cannot be resolved is left out."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from fedi.content.mentions import find_handles, mention_tags, resolve_mentions
from fedi.settings import Settings
from fedi.testing.peers import FakePeers, InboxHarness, alice, inbox_harness


def test_handles_in_text() -> None:
    text = "Ask @anna and @alice@Alice.test, mail bob@x.test, @alice@alice.test again, @anna."
    assert find_handles(text, "esf.test") == [
        ("anna", "esf.test"),
        ("alice", "alice.test"),
    ]


@pytest.fixture
async def h(settings: Settings) -> AsyncIterator[InboxHarness]:
    peers = FakePeers()
    peers.add(alice())
    peers.serve(
        "https://alice.test/.well-known/webfinger?resource=acct%3Aalice%40alice.test",
        {
            "subject": "acct:alice@alice.test",
            "links": [{"rel": "self", "type": "application/activity+json", "href": alice().uri}],
        },
        content_type="application/jrd+json",
    )
    harness = await inbox_harness(settings, peers)
    try:
        yield harness
    finally:
        await harness.aclose()


async def test_local_and_remote_handles_resolve(h: InboxHarness) -> None:
    text = "Thanks @anna and @alice@alice.test; @nobody@nowhere.test is unknown"
    async with h.ctx.sessions() as session, session.begin():
        mentions = await resolve_mentions(session, text, ctx=h.ctx)
    assert [(m.handle, m.actor_uri, m.local) for m in mentions] == [
        ("@anna@esf.test", "https://esf.test/users/anna", True),
        ("@alice@alice.test", alice().uri, False),
    ]
    assert mention_tags(mentions)[1] == {
        "type": "Mention",
        "href": alice().uri,
        "name": "@alice@alice.test",
    }
    # alice is stored now: the second time asks nobody
    fetched = len(h.peers.fetched())
    async with h.ctx.sessions() as session:
        again = await resolve_mentions(session, "@alice@alice.test", ctx=h.ctx)
    assert [m.actor_uri for m in again] == [alice().uri]
    assert len(h.peers.fetched()) == fetched
