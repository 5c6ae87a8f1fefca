"""Threads and replies through their service: a thread is a Page addressed to the forum and
announced by it, replies join it, the author or a moderator marks the accepted answer, and a
post received from another server files itself under our forum; on both databases."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.actors.local import ensure_instance_actors
from fedi.content import service as content
from fedi.content.threads.inbound import receive_forum_post
from fedi.content.threads.reading import find_thread, list_threads
from fedi.content.threads.replies import replies_page
from fedi.content.threads.service import mark_solution, post_reply, start_thread
from fedi.db.models import (
    Activity,
    Actor,
    ContentObject,
    Delivery,
    Role,
    Thread,
    ThreadReply,
    utcnow,
)
from fedi.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from fedi.federation.shapes import read_object
from fedi.federation.vocab import PUBLIC
from fedi.services import forums, members
from fedi.settings import Settings
from fedi.testing.peers import add_remote_follower, remote_actor_row

THREAD = {"title": "Reporting indicators for ESF+", "body": "How do you count *participants*?"}


async def _member(session: AsyncSession, settings: Settings, login: str) -> Actor:
    return (await members.add_member(session, settings, login, "a long test password")).actor


async def _count(session: AsyncSession, model: type[object]) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _setup(session: AsyncSession, settings: Settings) -> tuple[Actor, Actor]:
    await ensure_instance_actors(session, settings)
    forum = await forums.create_forum(session, settings, "reporting", "Reporting")
    return forum, await _member(session, settings, "anna")


async def _announces(session: AsyncSession, actor: Actor) -> list[dict[str, Any]]:
    rows = await session.scalars(
        select(Activity.document)
        .where(Activity.actor_id == actor.id, Activity.type == "Announce")
        .order_by(Activity.id)
    )
    return list(rows.all())


async def test_a_thread_is_a_page_for_the_forum_announced_by_it(
    session: AsyncSession, settings: Settings
) -> None:
    forum, anna = await _setup(session, settings)
    await add_remote_follower(session, forum, "lemmy.test", "reader")
    thread = await start_thread(session, settings, anna, "reporting", THREAD)
    await session.commit()
    document = thread.obj.document
    assert document["type"] == "Page" and document["name"] == THREAD["title"]
    assert "<em>participants</em>" in document["content"]
    assert document["source"] == {"content": THREAD["body"], "mediaType": "text/markdown"}
    assert document["to"] == [PUBLIC, forum.uri]
    assert document["audience"] == forum.uri and document["context"] == f"{thread.uri}/context"
    assert document["url"] == f"https://esf.test/threads/{thread.key}"
    assert thread.obj.url == document["url"] and thread.obj.language == "en"
    (announce,) = await _announces(session, forum)
    assert announce["object"]["type"] == "Create"
    assert announce["object"]["object"]["id"] == thread.uri
    assert announce["cc"] == [forum.followers_url]
    delivery = await session.scalar(
        select(Delivery)
        .join(Activity, Activity.id == Delivery.activity_id)
        .where(Activity.actor_id == forum.id)
    )
    assert delivery is not None and delivery.inbox == "https://lemmy.test/inbox"
    network = await session.scalar(select(Actor).where(Actor.username == settings.network_handle))
    assert network is not None
    (shared,) = await _announces(session, network)
    assert shared["object"] == thread.uri
    page = await list_threads(session, forum, limit=10, offset=0)
    assert [view.uri for view in page.rows] == [thread.uri] and page.total == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"body": "no title"}, "title"),
        ({"title": "  ", "body": "x"}, "title"),
        ({"title": "t"}, "body"),
        ({"title": "t", "body": "x", "language": "xx"}, "language"),
        ({"title": "t", "body": "x", "language": None}, "language"),
        ({"title": "t", "body": "x", "colour": "red"}, "colour"),
        ({"title": "a\nb", "body": "x"}, "title"),
    ],
)
async def test_bad_input_starts_nothing(
    session: AsyncSession, settings: Settings, fields: dict[str, Any], field: str
) -> None:
    _, anna = await _setup(session, settings)
    await session.commit()
    with pytest.raises(ValidationError) as refused:
        await start_thread(session, settings, anna, "reporting", fields)
    assert field in str(refused.value) or field in refused.value.errors
    await session.rollback()
    assert await _count(session, Thread) == 0
    assert await _count(session, ContentObject) == 0


async def test_an_archived_forum_takes_no_new_thread(
    session: AsyncSession, settings: Settings
) -> None:
    _, anna = await _setup(session, settings)
    await forums.archive_forum(session, settings, "reporting", utcnow())
    with pytest.raises(ConflictError, match="archived"):
        await start_thread(session, settings, anna, "reporting", THREAD)
    with pytest.raises(NotFoundError):
        await start_thread(session, settings, anna, "nowhere", THREAD)


async def test_replies_join_the_thread_nested_and_counted(
    session: AsyncSession, settings: Settings
) -> None:
    forum, anna = await _setup(session, settings)
    piotr = await _member(session, settings, "piotr")
    thread = await start_thread(session, settings, anna, "reporting", THREAD)
    first = await post_reply(session, settings, piotr, thread.key, {"body": "We use *ECF*."})
    second = await post_reply(
        session, settings, anna, thread.key, {"body": "Thanks!", "in_reply_to": first.uri}
    )
    await session.commit()
    second_id, thread_key = second.id, thread.key
    assert first.in_reply_to == thread.uri and second.in_reply_to == first.uri
    assert first.document["context"] == f"{thread.uri}/context" and first.audience == forum.uri
    assert first.document["cc"] == [piotr.followers_url, anna.uri]
    again = await find_thread(session, thread.key)
    assert again.reply_count == 2 and again.last_activity >= thread.last_activity
    replies = await replies_page(session, again, limit=1, offset=0)
    assert [r.uri for r in replies.rows] == [first.uri] and replies.total == 2
    assert replies.next_before == 1
    rest = await replies_page(session, again, limit=1, offset=1)
    assert [r.uri for r in rest.rows] == [second.uri] and rest.next_before is None
    assert len(await _announces(session, forum)) == 3
    with pytest.raises(ValidationError, match="in_reply_to"):
        await post_reply(
            session, settings, anna, thread.key, {"body": "x", "in_reply_to": "https://x.test/1"}
        )
    with pytest.raises(ValidationError, match="body"):
        await post_reply(session, settings, anna, thread.key, {"body": " "})
    with pytest.raises(NotFoundError):
        await post_reply(session, settings, anna, first.id, {"body": "a reply is no thread"})
    await session.rollback()
    assert await _count(session, ThreadReply) == 2
    # A deleted reply leaves the thread's count and its page.
    gone = await session.get(ContentObject, second_id)
    assert gone is not None
    content.tombstone(gone, now=utcnow())
    after = await find_thread(session, thread_key)
    assert after.reply_count == 1
    assert (await replies_page(session, after, limit=10, offset=0)).total == 1
    listed = await list_threads(session, forum, limit=10, offset=0)
    assert [view.reply_count for view in listed.rows] == [1]


async def test_the_author_or_a_moderator_marks_the_answer(
    session: AsyncSession, settings: Settings
) -> None:
    _, anna = await _setup(session, settings)
    piotr = await _member(session, settings, "piotr")
    mod = await _member(session, settings, "mod")
    await members.set_role(session, "mod", Role.MODERATOR)
    thread = await start_thread(session, settings, anna, "reporting", THREAD)
    reply = await post_reply(session, settings, piotr, thread.key, {"body": "Count heads."})
    other = await post_reply(session, settings, piotr, thread.key, {"body": "Or hours."})
    await session.commit()
    with pytest.raises(ForbiddenError):
        await mark_solution(session, settings, piotr, thread.key, reply.uri)
    with pytest.raises(ValidationError, match="reply"):
        await mark_solution(session, settings, anna, thread.key, thread.uri)
    with pytest.raises(ValidationError, match="reply"):
        await mark_solution(session, settings, anna, thread.key, None)
    solved = await mark_solution(session, settings, anna, thread.key, reply.uri)
    assert solved.solution == reply.uri
    assert solved.obj.document["acceptedAnswer"] == reply.uri
    update = await session.scalar(select(Activity).where(Activity.type == "Update"))
    assert update is not None and update.document["object"]["acceptedAnswer"] == reply.uri
    assert update.document["actor"] == anna.uri
    moved = await mark_solution(session, settings, mod, thread.key, other.uri)
    assert moved.solution == other.uri
    page = await replies_page(session, moved, limit=10, offset=0)
    assert [r.solution for r in page.rows] == [False, True]


async def test_a_received_page_for_our_forum_starts_a_thread_and_its_reply_joins(
    session: AsyncSession, settings: Settings
) -> None:
    forum, _ = await _setup(session, settings)
    remote = remote_actor_row("lemmy.test", "ula")
    session.add(remote)
    await session.flush()
    page = {
        "id": "https://lemmy.test/post/1",
        "type": "Page",
        "attributedTo": remote.uri,
        "name": "From Lemmy",
        "content": "<p>Hello forum</p>",
        "to": [PUBLIC],
        "cc": [forum.uri],
        "audience": forum.uri,
    }
    create = {"id": "https://lemmy.test/activities/1", "type": "Create", "object": page}
    row = content.create(session, read_object(page), page, author_id=remote.id, local=False)
    assert await receive_forum_post(session, settings, row, create) == "thread started"
    note = {
        "id": "https://lemmy.test/comment/1",
        "type": "Note",
        "attributedTo": remote.uri,
        "content": "<p>Me again</p>",
        "inReplyTo": page["id"],
        "to": [PUBLIC],
    }
    reply = content.create(session, read_object(note), note, author_id=remote.id, local=False)
    joined = await receive_forum_post(session, settings, reply, {"type": "Create", "object": note})
    assert joined == "reply joined its thread"
    thread = await find_thread(session, row.id)
    assert thread.reply_count == 1 and thread.forum is not None and thread.forum.id == forum.id
    assert len(await _announces(session, forum)) == 2
    elsewhere = {**page, "id": "https://lemmy.test/post/2", "cc": [], "audience": None}
    other = content.create(
        session, read_object(elsewhere), elsewhere, author_id=remote.id, local=False
    )
    assert await receive_forum_post(session, settings, other, {"type": "Create"}) is None
    offer = {**page, "id": "https://lemmy.test/post/3", "purpose": "offer"}
    row3 = content.create(session, read_object(offer), offer, author_id=remote.id, local=False)
    assert await receive_forum_post(session, settings, row3, {"type": "Create"}) is None


async def test_a_thread_held_from_another_server_is_read_and_answered_here(
    session: AsyncSession, settings: Settings
) -> None:
    await ensure_instance_actors(session, settings)
    anna = await _member(session, settings, "anna")
    remote = remote_actor_row("pl.test", "ula")
    session.add(remote)
    await session.flush()
    forum_uri = "https://pl.test/groups/reporting"
    page = {
        "id": "https://pl.test/objects/1",
        "type": "Page",
        "attributedTo": remote.uri,
        "name": "Held here",
        "content": "<p>Question</p>",
        "to": [PUBLIC, forum_uri],
        "audience": forum_uri,
        "acceptedAnswer": "https://pl.test/objects/2",
    }
    row = content.create(session, read_object(page), page, author_id=remote.id, local=False)
    offer = {**page, "id": "https://pl.test/objects/3", "purpose": "offer"}
    held_offer = content.create(
        session, read_object(offer), offer, author_id=remote.id, local=False
    )
    await session.flush()
    with pytest.raises(NotFoundError):
        await find_thread(session, held_offer.id)
    thread = await find_thread(session, row.id)
    assert thread.row is None and thread.forum_uri == forum_uri
    assert thread.solution == "https://pl.test/objects/2"
    reply = await post_reply(session, settings, anna, row.id, {"body": "An answer"})
    assert reply.document["to"] == [PUBLIC, forum_uri]
    assert reply.document["cc"] == [anna.followers_url, remote.uri]
    create = await session.scalar(select(Activity).where(Activity.object_uri == reply.uri))
    assert create is not None
    delivery = await session.scalar(select(Delivery).where(Delivery.activity_id == create.id))
    assert delivery is not None and delivery.inbox == remote.inbox
    again = await find_thread(session, row.id)
    assert again.reply_count == 1
    with pytest.raises(ConflictError):
        await mark_solution(session, settings, anna, row.id, reply.uri)
