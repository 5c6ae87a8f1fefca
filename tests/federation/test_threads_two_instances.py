"""A thread across two real instances on loopback: a member of IT finds a thread of PL's forum
through ``GET /api/v1/lookup?resolve=true`` (its ActivityPub URL), replies from IT, and the reply
joins the thread on PL, counted, shown in the thread and announced by the forum."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.db.models import Activity, Actor
from fedi.services.forums import create_forum
from fedi.testing.instances import (
    RunningInstance,
    collection_items,
    wait_until,
)

pytestmark = pytest.mark.federation


def test_a_reply_from_another_instance_joins_the_thread(
    pair: tuple[RunningInstance, RunningInstance],
) -> None:
    pl, it = pair
    anna = pl.add_member("anna")
    marco = it.add_member("marco")

    async def forum(session: AsyncSession) -> str:
        return (await create_forum(session, pl.settings, "reporting", "Reporting")).uri

    forum_uri = pl.run(forum)
    started = pl.api(
        anna,
        "POST",
        "/api/v1/forums/reporting/threads",
        json={"title": "Counting participants", "body": "How do you count *them*?"},
    )
    assert started.status_code == 201, started.text
    thread = started.json()

    found = it.api(marco, "GET", "/api/v1/lookup", params={"id": thread["id"], "resolve": "true"})
    assert found.status_code == 200, found.text
    assert found.json()["type"] == "thread" and found.json()["local"] is False
    held = it.stored_object(thread["id"])
    assert held is not None and held.audience == forum_uri and held.name == thread["title"]
    seen = it.api(marco, "GET", f"/api/v1/threads/{held.id}").json()
    assert seen["local"] is False and seen["forum"] == forum_uri

    sent = it.api(
        marco, "POST", f"/api/v1/threads/{held.id}/replies", json={"body": "We count *heads*."}
    )
    assert sent.status_code == 201, sent.text
    reply = sent.json()
    assert reply["in_reply_to"] == thread["id"]

    def joined() -> dict[str, Any] | None:
        answer = pl.api(anna, "GET", f"/api/v1/threads/{thread['key']}").json()
        return answer if answer["reply_count"] == 1 else None

    on_pl = wait_until(joined, timeout=30)
    (item,) = on_pl["replies"]["items"]
    assert item["id"] == reply["id"] and item["local"] is False
    assert item["author"]["handle"] == f"@marco@{it.settings.domain}"
    assert "<em>heads</em>" in item["body_html"]
    page = httpx.get(f"{pl.base_url}/threads/{thread['key']}", timeout=30)
    assert "We count" in page.text and "marco" in page.text

    # The forum announced the received reply to its followers, as FEP-1b12 has it.
    async def announces(session: AsyncSession) -> list[dict[str, Any]]:
        group = await session.scalar(select(Actor).where(Actor.uri == forum_uri))
        assert group is not None
        rows = await session.scalars(
            select(Activity.document).where(
                Activity.actor_id == group.id, Activity.type == "Announce"
            )
        )
        return list(rows.all())

    objects = [a["object"]["object"]["id"] for a in pl.run(announces)]
    assert objects == [thread["id"], reply["id"]]
    # What IT sent is addressed to the forum, in the thread's context.
    note = it.stored_object(reply["id"])
    assert note is not None and note.document["audience"] == forum_uri
    assert note.document["context"] == f"{thread['id']}/context"
    assert forum_uri in note.document["to"]


def test_one_late_reply_brings_the_whole_thread_to_another_instance(
    pair: tuple[RunningInstance, RunningInstance],
) -> None:
    """A thread of PL's forum with three replies (one answering another) is written before IT
    knows it; IT's marco follows only bea, whose late reply reaches IT: IT fetches the reply's
    ancestors and reads the thread's context collection, and shows the whole thread, in order,
    on its page and in its API."""
    pl, it = pair
    anna = pl.add_member("anna")
    bea = pl.add_member("bea")
    marco = it.add_member("marco")

    async def forum(session: AsyncSession) -> str:
        return (await create_forum(session, pl.settings, "reporting", "Reporting")).uri

    forum_uri = pl.run(forum)
    thread = pl.api(
        anna,
        "POST",
        "/api/v1/forums/reporting/threads",
        json={"title": "Counting participants", "body": "How do you count them?"},
    ).json()
    key = thread["key"]
    written = []
    for token, body, parent in (
        (bea, "First answer.", None),
        (anna, "Second answer.", None),
        (bea, "Answering the first.", 0),
    ):
        payload = {"body": body}
        if parent is not None:
            payload["in_reply_to"] = written[parent]["id"]
        sent = pl.api(token, "POST", f"/api/v1/threads/{key}/replies", json=payload)
        assert sent.status_code == 201, sent.text
        written.append(sent.json())
    assert it.stored_object(thread["id"]) is None

    it.follow("marco", pl.actor_uri("bea"))
    wait_until(
        lambda: it.actor_uri("marco") in collection_items(f"{pl.actor_uri('bea')}/followers")
    )
    late = pl.api(
        bea, "POST", f"/api/v1/threads/{key}/replies", json={"body": "A late word."}
    ).json()
    written.append(late)

    def complete() -> Any:
        page = it.stored_object(thread["id"])
        if page is None or any(it.stored_object(r["id"]) is None for r in written):
            return None
        return page

    held = wait_until(complete, timeout=60)
    assert held.audience == forum_uri
    seen = it.api(marco, "GET", f"/api/v1/threads/{held.id}").json()
    assert seen["reply_count"] == 4 and seen["local"] is False
    assert [item["id"] for item in seen["replies"]["items"]] == [r["id"] for r in written]
    assert seen["replies"]["items"][2]["in_reply_to"] == written[0]["id"]
    page = httpx.get(f"{it.base_url}/threads/{held.id}", timeout=30).text
    positions = [page.index(text) for text in ("How do you count them?", "First answer.")]
    positions += [page.index(text) for text in ("Second answer.", "A late word.")]
    assert positions == sorted(positions) and "Answering the first." in page
