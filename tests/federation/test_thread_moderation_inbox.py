"""Moderation received from a Lemmy-like community, in the shapes Lemmy sends (the community's
``Announce`` of a moderator's ``Lock``, ``Undo`` of it, ``Add`` to its ``featured`` and
``Delete`` of a comment), applied to the posts we hold of it; the same from a group the post is
not filed under is refused; and a reply received for one of our locked threads is refused by
the named rule, keeping nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from fedi.content.threads.reading import find_thread
from fedi.db.models import Activity, ActivityState, ContentObject, Thread, ThreadReply, utcnow
from fedi.federation.inbound import InboxProcessor
from fedi.federation.vocab import PUBLIC
from fedi.testing.keys import cavage_test_private_key, rotated_key
from fedi.testing.peers import FakeActor, InboxHarness, alice, bob, note

FORUM = "https://esf.test/groups/forum"


def _community(host: str = "lemmy.test", name: str = "reporting") -> FakeActor:
    key = cavage_test_private_key() if host == "lemmy.test" else rotated_key()
    actor = FakeActor(host, name, key, type="Group")
    uri = actor.uri
    actor.extra.update({"attributedTo": f"{uri}/moderators", "featured": f"{uri}/featured"})
    return actor


def _create(actor: FakeActor, obj: dict[str, Any], name: str) -> dict[str, Any]:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"https://{actor.host}/activities/create/{name}",
        "type": "Create",
        "actor": actor.uri,
        "to": obj.get("to", []),
        "cc": obj.get("cc", []),
        "object": obj,
    }


def _announce(group: FakeActor, inner: dict[str, Any], name: str) -> dict[str, Any]:
    """The community's Announce of a moderator's activity, as Lemmy wraps it."""
    return {
        "@context": [
            "https://join-lemmy.org/context.json",
            "https://www.w3.org/ns/activitystreams",
        ],
        "actor": group.uri,
        "to": [PUBLIC],
        "object": inner,
        "cc": [f"{group.uri}/followers"],
        "type": "Announce",
        "id": f"https://{group.host}/activities/announce/{name}",
    }


def _by_mod(group: FakeActor, kind: str, obj: Any, name: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"https://{group.host}/activities/{kind.lower()}/{name}",
        "actor": f"https://{group.host}/u/moderator",
        "to": [group.uri, PUBLIC],
        "object": obj,
        "cc": [],
        "type": kind,
        "audience": group.uri,
        **extra,
    }


async def _receive(h: InboxHarness, actor: FakeActor, document: dict[str, Any]) -> Activity:
    response = await h.deliver(actor, document)
    assert response.status_code == 202, response.text
    await InboxProcessor(h.ctx).run_once()
    async with h.ctx.sessions() as session:
        row = await session.scalar(select(Activity).where(Activity.uri == document["id"]))
    assert row is not None
    return row


async def _object(h: InboxHarness, uri: str) -> ContentObject:
    async with h.ctx.sessions() as session:
        row = await session.scalar(select(ContentObject).where(ContentObject.uri == uri))
    assert row is not None
    return row


async def test_a_communitys_moderation_reaches_the_posts_held_here(h: InboxHarness) -> None:
    group = _community()
    h.peers.add(group)
    page = {
        "id": f"https://{alice().host}/post/7",
        "type": "Page",
        "attributedTo": alice().uri,
        "name": "Counting participants",
        "content": "<p>How?</p>",
        "to": [group.uri, PUBLIC],
        "cc": [],
        "audience": group.uri,
        "commentsEnabled": True,
        "stickied": False,
    }
    created = await _receive(h, alice(), _create(alice(), page, "p7"))
    assert created.state is ActivityState.PROCESSED, created.error
    comment = note(bob(), "c1", inReplyTo=page["id"], audience=group.uri, context=page["id"])
    await _receive(h, bob(), _create(bob(), comment, "c1"))
    key = (await _object(h, page["id"])).id

    async def thread_state() -> tuple[bool, bool]:
        async with h.ctx.sessions() as session:
            view = await find_thread(session, key)
        return view.locked, view.pinned

    assert await thread_state() == (False, False)
    lock = _by_mod(group, "Lock", page["id"], "1")
    done = await _receive(h, group, _announce(group, lock, "1"))
    assert done.state is ActivityState.PROCESSED, done.error
    assert await thread_state() == (True, False)
    undo = _by_mod(group, "Undo", lock, "2")
    await _receive(h, group, _announce(group, undo, "2"))
    assert await thread_state() == (False, False)
    add = _by_mod(group, "Add", page["id"], "3", target=f"{group.uri}/featured")
    await _receive(h, group, _announce(group, add, "3"))
    assert await thread_state() == (False, True)
    wrong = _by_mod(group, "Add", page["id"], "4", target="https://elsewhere.test/featured")
    refused = await _receive(h, group, _announce(group, wrong, "4"))
    assert refused.state is ActivityState.FAILED

    # An edit is taken from the post's origin, and only when announced as its author's.
    edited = {**page, "name": "Counting participants (edited)", "content": "<p>How, then?</p>"}
    h.peers.serve(page["id"], {"@context": "https://www.w3.org/ns/activitystreams", **edited})
    forged = {**_by_mod(group, "Update", edited, "7a")}
    refused = await _receive(h, group, _announce(group, forged, "7a"))
    assert refused.state is ActivityState.FAILED
    update = {**_by_mod(group, "Update", edited, "7"), "actor": alice().uri}
    updated = await _receive(h, group, _announce(group, update, "7"))
    assert updated.state is ActivityState.PROCESSED, updated.error
    assert (await _object(h, page["id"])).name == "Counting participants (edited)"

    # Another community may not remove what is filed under this one.
    other = _community("evil.test", "takeover")
    h.peers.add(other)
    grab = _by_mod(other, "Delete", comment["id"], "5")
    refused = await _receive(h, other, _announce(other, grab, "5"))
    assert refused.state is ActivityState.FAILED
    assert "not filed under" in (refused.error or "")
    assert (await _object(h, comment["id"])).deleted_at is None

    removal = _by_mod(group, "Delete", comment["id"], "6", summary="Off topic")
    removed = await _receive(h, group, _announce(group, removal, "6"))
    assert removed.state is ActivityState.PROCESSED, removed.error
    held = await _object(h, comment["id"])
    assert held.deleted_at is not None and held.content is None
    assert held.document["type"] == "Tombstone"


async def test_a_reply_to_a_locked_thread_of_ours_is_refused(h: InboxHarness) -> None:
    page = {
        "id": f"https://{alice().host}/post/8",
        "type": "Page",
        "attributedTo": alice().uri,
        "name": "Locked soon",
        "content": "<p>Asking.</p>",
        "to": [FORUM, PUBLIC],
        "cc": [],
        "audience": FORUM,
    }
    await _receive(h, alice(), _create(alice(), page, "p8"))
    first = note(bob(), "r1", inReplyTo=page["id"])
    joined = await _receive(h, bob(), _create(bob(), first, "r1"))
    assert joined.state is ActivityState.PROCESSED, joined.error
    async with h.ctx.sessions.begin() as session:
        (thread,) = (await session.scalars(select(Thread))).all()
        thread.locked_at = utcnow()
    late = note(bob(), "r2", inReplyTo=page["id"])
    refused = await _receive(h, bob(), _create(bob(), late, "r2"))
    assert refused.state is ActivityState.FAILED and refused.error == "thread is locked"
    async with h.ctx.sessions() as session:
        replies = (await session.scalars(select(ThreadReply))).all()
        kept = await session.scalar(select(ContentObject).where(ContentObject.uri == late["id"]))
    assert len(replies) == 1 and kept is None
