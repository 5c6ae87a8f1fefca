"""An object's page shows its warning, attachments, hashtags and helpful count; images from
other hosts are links out named by their alt text, never loaded into the reader's browser."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from fedi.actors.document import parse_actor_document
from fedi.actors.remote import store_actor
from fedi.content import service as content
from fedi.db.models import ObjectLike
from fedi.federation.shapes import read_object
from fedi.settings import Settings
from fedi.testing.peers import PUBLIC, FakePeers, InboxHarness, alice, inbox_harness


@pytest.fixture
async def h(settings: Settings) -> AsyncIterator[InboxHarness]:
    peers = FakePeers()
    peers.add(alice())
    harness = await inbox_harness(settings, peers)
    try:
        yield harness
    finally:
        await harness.aclose()


async def test_the_page_links_out_to_remote_images_and_folds_behind_the_warning(
    h: InboxHarness,
) -> None:
    base = h.settings.base_url
    uri = f"{base}/objects/details-1"
    document = {
        "id": uri,
        "type": "Note",
        "attributedTo": f"{base}/users/anna",
        "content": "<p>Our results</p>",
        "summary": "Long read",
        "to": [PUBLIC],
        "contentMap": {"pl": "<p>Our results</p>"},
        "tag": [{"type": "Hashtag", "name": "#Youth"}],
        "attachment": [
            {"type": "Image", "url": "https://alice.test/big.png", "name": "A bar chart"},
            {"type": "Image", "url": f"{base}/media/own.png", "name": "Our logo"},
        ],
    }
    anna = await h.actor_row(f"{base}/users/anna")
    assert anna is not None
    async with h.ctx.sessions() as session, session.begin():
        row = content.create(
            session, read_object(document), document, author_id=anna.id, local=True
        )
        await session.flush()
        alice_row = await store_actor(
            session,
            parse_actor_document(alice().document(), alice().uri),
            now=h.ctx.clock(),
            local_domain=h.settings.domain,
        )
        await session.flush()
        like = "https://alice.test/likes/1"
        session.add(ObjectLike(object_id=row.id, actor_id=alice_row.id, activity_uri=like))
    transport = httpx.ASGITransport(app=h.app)
    async with httpx.AsyncClient(transport=transport, base_url=base) as client:
        page = await client.get("/objects/details-1", headers={"Accept": "text/html"})
    assert page.status_code == 200
    text = page.text
    assert '<details class="content-warning">' in text and "Long read" in text
    assert 'src="https://alice.test' not in text
    assert 'href="https://alice.test/big.png" rel="nofollow noopener ugc"' in text
    assert "A bar chart" in text
    assert f'<img src="{base}/media/own.png" alt="Our logo"' in text
    assert "#youth" in text and 'lang="pl"' in text
    assert "Found helpful by 1 person" in text


async def test_an_image_only_post_is_titled_by_its_alt_text(h: InboxHarness) -> None:
    base = h.settings.base_url
    document = {
        "id": f"{base}/objects/only-image",
        "type": "Note",
        "attributedTo": f"{base}/users/anna",
        "content": "",
        "to": [PUBLIC],
        "attachment": [{"type": "Image", "url": "https://alice.test/i.png", "name": "A river"}],
    }
    anna = await h.actor_row(f"{base}/users/anna")
    assert anna is not None
    async with h.ctx.sessions() as session, session.begin():
        content.create(session, read_object(document), document, author_id=anna.id, local=True)
    transport = httpx.ASGITransport(app=h.app)
    async with httpx.AsyncClient(transport=transport, base_url=base) as client:
        page = await client.get("/objects/only-image", headers={"Accept": "text/html"})
    assert "<title>A river · " in page.text
    assert 'href="https://alice.test/i.png"' in page.text
