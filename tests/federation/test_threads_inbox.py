"""Posts received at the inbox for one of our forums: a Lemmy-shaped ``Page`` addressed to the
forum starts a thread, a Mastodon-shaped reply to it joins the thread, and the forum announces
both; a Page for nobody's forum here and a reply elsewhere stay plain content."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from fedi.db.models import Activity, ActivityState, Actor, Thread, ThreadReply
from fedi.federation.inbound import InboxProcessor
from fedi.federation.vocab import PUBLIC
from fedi.testing.peers import FakeActor, InboxHarness, alice, bob, note

FORUM = "https://esf.test/groups/forum"


def _create(actor: FakeActor, obj: dict[str, Any], name: str) -> dict[str, Any]:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"https://{actor.host}/activities/{name}",
        "type": "Create",
        "actor": actor.uri,
        "to": obj.get("to", []),
        "cc": obj.get("cc", []),
        "object": obj,
    }


async def _receive(h: InboxHarness, actor: FakeActor, document: dict[str, Any]) -> Activity:
    response = await h.deliver(actor, document)
    assert response.status_code == 202, response.text
    await InboxProcessor(h.ctx).run_once()
    async with h.ctx.sessions() as session:
        row = await session.scalar(select(Activity).where(Activity.uri == document["id"]))
    assert row is not None and row.state is ActivityState.PROCESSED, row and row.error
    return row


async def test_a_page_for_our_forum_starts_a_thread_and_a_reply_joins_it(h: InboxHarness) -> None:
    page = {
        "id": f"https://{alice().host}/post/1",
        "type": "Page",
        "attributedTo": alice().uri,
        "name": "Who counts participants twice?",
        "content": "<p>Asking for a friend.</p>",
        "to": [FORUM, PUBLIC],
        "cc": [],
        "audience": FORUM,
    }
    start = _create(alice(), page, "c1")
    await _receive(h, alice(), start)
    reply = note(bob(), "r1", inReplyTo=page["id"], cc=[alice().uri])
    await _receive(h, bob(), _create(bob(), reply, "c2"))
    elsewhere = {**page, "id": f"https://{alice().host}/post/2", "to": [PUBLIC], "audience": None}
    await _receive(h, alice(), _create(alice(), elsewhere, "c3"))
    async with h.ctx.sessions() as session:
        forum = await session.scalar(select(Actor).where(Actor.uri == FORUM))
        assert forum is not None
        (thread,) = (await session.scalars(select(Thread))).all()
        assert thread.forum_id == forum.id
        (joined,) = (await session.scalars(select(ThreadReply))).all()
        assert joined.thread_id == thread.object_id
        announced = (
            await session.scalars(
                select(Activity.document)
                .where(Activity.actor_id == forum.id, Activity.type == "Announce")
                .order_by(Activity.id)
            )
        ).all()
    assert [a["object"]["id"] for a in announced] == [
        start["id"],
        f"https://{bob().host}/activities/c2",
    ]
    assert all(a["to"] == [PUBLIC] and a["cc"] == [forum.followers_url] for a in announced)
