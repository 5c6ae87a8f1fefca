"""A thread's ``context`` collection (its Page, then its replies in order, paged) and each post's
``replies`` collection over HTTP, under the signed-fetch rule of the other collections."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.testclient import TestClient

from fedi.cli.common import run_in_session
from fedi.content import service as content
from fedi.content.threads.service import post_reply, start_thread
from fedi.db.models import Actor, ContentObject, utcnow
from fedi.settings import Settings
from fedi.web import create_app
from tests.conftest import make_settings
from tests.web.test_discovery import bootstrap
from tests.web.test_forums import add_forum_and_moderators

AS2 = "application/activity+json"


def _thread(settings: Settings, replies: int) -> tuple[str, list[str]]:
    """A thread of anna's with ``replies`` replies (the second answering the first); their ids,
    the replies oldest first. The third reply is deleted."""

    async def work(session: AsyncSession) -> tuple[str, list[str]]:
        anna = await session.scalar(select(Actor).where(Actor.username == "anna"))
        assert anna is not None
        thread = await start_thread(
            session, settings, anna, "employment", {"title": "Counting", "body": "How?"}
        )
        uris: list[str] = []
        start = utcnow()
        for n in range(replies):
            parent = {"in_reply_to": uris[0]} if n == 1 else {}
            reply = await post_reply(
                session, settings, anna, thread.key, {"body": f"Reply {n}.", **parent}
            )
            # Written out of order: the collection follows ``published``, not the row ids.
            reply.published = start + timedelta(minutes=100 if n == 4 else n)
            uris.append(reply.uri)
        row = await session.scalar(select(ContentObject).where(ContentObject.uri == uris[2]))
        assert row is not None
        content.tombstone(row, now=utcnow())
        return thread.uri, uris

    result: tuple[str, list[str]] = run_in_session(settings, work)
    return result


def _get(client: TestClient, url: str, **params: str) -> dict[str, Any]:
    response = client.get(url, headers={"Accept": AS2}, **({"params": params} if params else {}))
    assert response.status_code == 200, (url, response.text)
    assert response.headers["content-type"].startswith(AS2)
    document: dict[str, Any] = response.json()
    return document


def _items(client: TestClient, head: dict[str, Any]) -> list[str]:
    items: list[str] = []
    url: str | None = head["first"]
    while url is not None:
        page = _get(client, url)
        assert page["partOf"] == head["id"]
        items.extend(page["orderedItems"])
        url = page.get("next")
    return items


def test_the_context_lists_the_page_then_the_replies_in_order(settings: Settings) -> None:
    bootstrap(settings, "anna")
    add_forum_and_moderators(settings)
    page, replies = _thread(settings, 24)
    kept = [uri for n, uri in enumerate(replies) if n != 2]
    in_order = [*kept[:3], *kept[4:], kept[3]]  # reply 4 was published last
    with TestClient(create_app(settings), base_url=settings.base_url) as client:
        document = _get(client, page)
        assert document["context"] == f"{page}/context"
        assert document["replies"] == f"{page}/replies"
        head = _get(client, document["context"])
        assert head["type"] == "OrderedCollection" and head["totalItems"] == 24
        first = _get(client, head["first"])
        assert len(first["orderedItems"]) == 20 and first["next"].endswith("?page=2")
        assert _items(client, head) == [page, *in_order]

        reply = _get(client, replies[0])
        assert reply["context"] == f"{page}/context"
        answers = _get(client, reply["replies"])
        assert answers["totalItems"] == 1 and _items(client, answers) == [replies[1]]
        direct = _get(client, f"{page}/replies")
        assert direct["totalItems"] == 22 and replies[1] not in _items(client, direct)

        # A reply starts no thread; a deleted post and an unknown one have no collections.
        assert client.get(f"{replies[0]}/context", headers={"Accept": AS2}).status_code == 404
        assert client.get(f"{replies[2]}/replies", headers={"Accept": AS2}).status_code == 404
        missing = f"{settings.base_url}/objects/nothing/context"
        assert client.get(missing, headers={"Accept": AS2}).status_code == 404
        bad = client.get(f"{page}/context", headers={"Accept": AS2}, params={"page": "0"})
        assert bad.status_code == 400


def test_authorized_fetch_covers_the_thread_collections(tmp_path: Path, migrated_url: str) -> None:
    settings = make_settings(tmp_path, migrated_url, FEDI_AUTHORIZED_FETCH="on")
    bootstrap(settings, "anna")
    add_forum_and_moderators(settings)
    page, replies = _thread(settings, 3)
    with TestClient(create_app(settings), base_url=settings.base_url) as client:
        for url in (f"{page}/context", f"{page}/replies", f"{replies[0]}/replies"):
            assert client.get(url, headers={"Accept": AS2}).status_code == 401, url
