"""A remote ``Like`` of a local object counts as "found helpful"; its ``Undo`` takes it back."""

from __future__ import annotations

from sqlalchemy import select

from fedi.content.likes import helpful_count, helpful_counts
from fedi.db.models import ActivityState, ContentObject
from fedi.services.publishing import publish_object
from fedi.testing.peers import InboxHarness, alice, bob
from tests.federation.test_inbound import ANNA, activity, receive


async def local_post(h: InboxHarness) -> ContentObject:
    async with h.ctx.sessions() as session, session.begin():
        anna = await h.actor_row(ANNA)
        assert anna is not None
        created = await publish_object(
            session, h.settings, anna, {"type": "Note", "content": "How we ran our call"}
        )
        uri = created.object_uri
    async with h.ctx.sessions() as session:
        row = await session.scalar(select(ContentObject).where(ContentObject.uri == uri))
    assert row is not None
    return row


async def count(h: InboxHarness, row: ContentObject) -> int:
    async with h.ctx.sessions() as session:
        return await helpful_count(session, row.id)


async def test_likes_count_once_per_actor_and_undo_removes_them(h: InboxHarness) -> None:
    post = await local_post(h)
    like = activity(alice(), "Like", post.uri, "l1")
    assert (await receive(h, alice(), like)).state is ActivityState.PROCESSED
    await receive(h, alice(), activity(alice(), "Like", post.uri, "l2"))  # again: no change
    await receive(h, bob(), activity(bob(), "Like", post.uri, "l3"))
    assert await count(h, post) == 2
    # Mastodon embeds the Like it undoes
    undo = activity(alice(), "Undo", {k: v for k, v in like.items() if k != "@context"}, "u1")
    assert (await receive(h, alice(), undo)).state is ActivityState.PROCESSED
    assert await count(h, post) == 1
    # others give only the Like's id
    await receive(h, bob(), activity(bob(), "Undo", f"https://{bob().host}/activities/l3", "u2"))
    assert await count(h, post) == 0
    async with h.ctx.sessions() as session:
        assert await helpful_counts(session, [post.id]) == {post.id: 0}


async def test_likes_of_remote_objects_are_not_counted(h: InboxHarness) -> None:
    post = await local_post(h)
    await receive(h, alice(), activity(alice(), "Like", "https://bob.test/notes/1", "l1"))
    await receive(h, alice(), activity(alice(), "Like", post.uri, "l2"))
    async with h.ctx.sessions() as session:
        assert await helpful_counts(session, [post.id]) == {post.id: 1}
