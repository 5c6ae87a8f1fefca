"""A thread first seen through one late reply is completed from its ``context`` collection (or
its first post's ``replies``), in order, within the fetch budget and the deadline; a looping,
huge, foreign or slow collection is given up, and posts that are not the thread's are not
stored."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import httpx
from sqlalchemy import select

from fedi.content.ancestors import fetch_object
from fedi.content.backfill import MAX_ITEMS, backfill_thread
from fedi.content.threads.reading import find_thread
from fedi.content.threads.replies import replies_page
from fedi.db.models import ActivityState, ContentObject
from fedi.testing.peers import PUBLIC, InboxHarness, alice, bob, note
from tests.federation.test_inbound import activity, receive

CTX = "https://alice.test/threads/t/context"
FORUM = "https://alice.test/groups/forum"


def _post(key: str, minute: int, parent: str | None, *, by: Any = None, **extra: Any) -> Any:
    author = by or alice()
    document = note(
        author,
        key,
        context=CTX,
        audience=FORUM,
        published=f"2024-05-01T11:{minute:02d}:00Z",
        to=[PUBLIC, FORUM],
    )
    if parent is not None:
        document["inReplyTo"] = parent
    return document | extra


def _thread() -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
    """A forum thread on alice.test: its Page, four replies (one from bob.test, one answering
    another) and a late reply."""
    page = _post("p", 0, None, type="Page", name="Counting participants")
    r1 = _post("r1", 1, page["id"])
    r2 = _post("r2", 2, page["id"], by=bob())
    r3 = _post("r3", 3, r1["id"])
    r4 = _post("r4", 4, page["id"])
    late = _post("late", 5, r4["id"])
    return page, [r1, r2, r3, r4], late


def _serve_collection(h: InboxHarness, pages: list[list[str]], **head: Any) -> None:
    h.peers.serve(
        CTX,
        {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": CTX,
            "type": "OrderedCollection",
            "totalItems": sum(len(p) for p in pages),
            "first": f"{CTX}?page=1",
        }
        | head,
    )
    for n, items in enumerate(pages, start=1):
        document = {
            "id": f"{CTX}?page={n}",
            "type": "OrderedCollectionPage",
            "partOf": CTX,
            "orderedItems": items,
        }
        if n < len(pages):
            document["next"] = f"{CTX}?page={n + 1}"
        h.peers.serve(document["id"], document)


async def _held(h: InboxHarness) -> set[str]:
    async with h.ctx.sessions() as session:
        return set((await session.scalars(select(ContentObject.uri))).all())


async def test_one_late_reply_brings_the_whole_thread_in_order(h: InboxHarness) -> None:
    page, replies, late = _thread()
    for post in (page, *replies):
        h.peers.serve(post["id"], post)
    ids = [post["id"] for post in (page, *replies, late)]
    _serve_collection(h, [ids[:3], ids[3:]])
    row = await receive(h, alice(), activity(alice(), "Create", late, "c-late", to=[PUBLIC]))
    assert row.state is ActivityState.PROCESSED, row.error
    assert set(ids) <= await _held(h)
    async with h.ctx.sessions() as session:
        start = await session.scalar(select(ContentObject).where(ContentObject.uri == page["id"]))
        assert start is not None
        thread = await find_thread(session, start.id)
        shown = await replies_page(session, thread, limit=20, offset=0)
    assert [reply.uri for reply in shown.rows] == ids[1:]
    assert thread.reply_count == 5
    # A second reply of the same thread reads nothing more.
    before = len(h.peers.fetched())
    again = _post("again", 6, page["id"])
    await receive(h, alice(), activity(alice(), "Create", again, "c-again", to=[PUBLIC]))
    assert len(h.peers.fetched()) == before


async def test_posts_that_are_not_the_threads_are_not_stored(h: InboxHarness) -> None:
    page, replies, _ = _thread()
    stranger = note(alice(), "elsewhere", context="https://alice.test/threads/other")
    forged = _post("forged", 3, page["id"]) | {"id": "https://alice.test/notes/forged-elsewhere"}
    for post in (page, *replies, stranger):
        h.peers.serve(post["id"], post)
    h.peers.serve("https://alice.test/notes/forged", forged)
    listed = [page["id"], stranger["id"], "https://alice.test/notes/forged", replies[0]["id"]]
    _serve_collection(h, [listed])
    result = await backfill_thread(h.ctx, context=CTX, root=None)
    held = await _held(h)
    assert result.stopped == "complete"
    assert {page["id"], replies[0]["id"]} <= held
    assert stranger["id"] not in held and "https://alice.test/notes/forged" not in held


async def test_a_looping_collection_is_read_once(h: InboxHarness) -> None:
    page, replies, _ = _thread()
    for post in (page, *replies):
        h.peers.serve(post["id"], post)
    _serve_collection(h, [[page["id"]], [replies[0]["id"]]])
    h.peers.serve(
        f"{CTX}?page=2",
        {
            "id": f"{CTX}?page=2",
            "type": "OrderedCollectionPage",
            "partOf": CTX,
            "orderedItems": [replies[0]["id"]],
            "next": f"{CTX}?page=1",
        },
    )
    result = await backfill_thread(h.ctx, context=CTX, root=None)
    assert result.stopped == "a page seen twice"
    assert result.stored == [page["id"], replies[0]["id"]]
    assert h.peers.fetched().count(f"{CTX}?page=1") == 1


async def test_a_huge_collection_stops_at_the_budget(h: InboxHarness) -> None:
    h.ctx.settings = replace(h.settings, thread_fetch_limit=6)
    pages = [[f"https://alice.test/notes/n{p}-{i}" for i in range(10)] for p in range(200)]
    _serve_collection(h, pages)
    result = await backfill_thread(h.ctx, context=CTX, root=None)
    assert result.stopped == "budget"
    assert len(h.peers.fetched("alice.test")) <= 6


async def test_a_collection_of_held_posts_stops_at_its_item_limit(h: InboxHarness) -> None:
    page, _, _ = _thread()
    h.peers.serve(page["id"], page)
    # One page that lists the same held post past the limit.
    _serve_collection(h, [[page["id"]] * (MAX_ITEMS + 10)])
    result = await backfill_thread(h.ctx, context=CTX, root=None)
    assert result.stopped == "too many items"
    assert result.stored == [page["id"]]


async def test_a_page_on_another_host_ends_the_reading(h: InboxHarness) -> None:
    page, _, _ = _thread()
    h.peers.serve(page["id"], page)
    _serve_collection(h, [[page["id"]]], first="https://bob.test/pages/1")
    h.peers.serve(
        "https://bob.test/pages/1",
        {"id": "https://bob.test/pages/1", "type": "OrderedCollectionPage", "orderedItems": []},
    )
    result = await backfill_thread(h.ctx, context=CTX, root=None)
    assert result.stopped == "a page on another host"
    assert "https://bob.test/pages/1" not in h.peers.fetched()


async def test_a_slow_collection_is_given_up_at_the_deadline(h: InboxHarness) -> None:
    h.ctx.settings = replace(h.settings, thread_fetch_deadline=1)
    pages = [[f"https://alice.test/notes/s{p}"] for p in range(50)]
    _serve_collection(h, pages)
    serve_page = h.peers.routes[f"{CTX}?page=1"]

    def slow(request: httpx.Request) -> httpx.Response:
        time.sleep(0.3)
        url = str(request.url)
        return h.peers.routes.get(f"_{url}", serve_page)(request)

    for p in range(1, 51):
        url = f"{CTX}?page={p}"
        h.peers.routes[f"_{url}"] = h.peers.routes[url]
        h.peers.routes[url] = slow
    started = time.monotonic()
    result = await backfill_thread(h.ctx, context=CTX, root=None)
    assert result.stopped == "deadline"
    assert time.monotonic() - started < 5


async def test_without_a_context_the_replies_are_read(h: InboxHarness) -> None:
    """A Mastodon-like thread: no context, each post's ``replies`` with its first page
    embedded."""
    base = "https://alice.test/notes"

    def replies_of(name: str, items: list[str]) -> dict[str, Any]:
        return {
            "id": f"{base}/{name}/replies",
            "type": "Collection",
            "first": {
                "id": f"{base}/{name}/replies?page=1",
                "type": "CollectionPage",
                "partOf": f"{base}/{name}/replies",
                "items": items,
            },
        }

    root = note(alice(), "root", replies=replies_of("root", [f"{base}/a", f"{base}/b"]))
    a = note(alice(), "a", inReplyTo=root["id"], replies=replies_of("a", [f"{base}/c"]))
    b = note(alice(), "b", inReplyTo=root["id"])
    c = note(alice(), "c", inReplyTo=a["id"])
    for post in (root, a, b, c):
        h.peers.serve(post["id"], post)
    late = note(alice(), "late", inReplyTo=b["id"])
    row = await receive(h, alice(), activity(alice(), "Create", late, "c-late", to=[PUBLIC]))
    assert row.state is ActivityState.PROCESSED, row.error
    assert {root["id"], a["id"], b["id"], c["id"], late["id"]} <= await _held(h)


async def test_a_thread_whose_first_post_alone_was_held_is_completed(h: InboxHarness) -> None:
    """A member looked the Page up (it alone is held); the first reply received brings the
    others."""
    page, replies, late = _thread()
    for post in (page, *replies):
        h.peers.serve(post["id"], post)
    ids = [post["id"] for post in (page, *replies)]
    _serve_collection(h, [ids])
    assert await fetch_object(h.ctx, page["id"]) is None
    assert await _held(h) == {page["id"]}
    late = late | {"inReplyTo": page["id"]}
    row = await receive(h, alice(), activity(alice(), "Create", late, "c-late", to=[PUBLIC]))
    assert row.state is ActivityState.PROCESSED, row.error
    assert {*ids, late["id"]} <= await _held(h)
