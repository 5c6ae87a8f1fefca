"""Moderation and editing through their services: only moderators lock, pin and remove, only
authors edit, authors or moderators delete; a repeated lock or pin sends nothing more; the
Page says what applies; a removed accepted answer is no longer the answer; a thread another
server keeps is moderated there, and one it locked takes no reply from here; on both
databases."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.actors.local import ensure_instance_actors
from fedi.content import service as content
from fedi.content.threads.editing import delete_reply, delete_thread, edit_reply, edit_thread
from fedi.content.threads.moderation import set_locked, set_pinned
from fedi.content.threads.reading import find_thread, list_threads
from fedi.content.threads.replies import replies_page
from fedi.content.threads.service import mark_solution, post_reply, start_thread
from fedi.db.models import Activity, Actor, Role
from fedi.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from fedi.federation.shapes import read_object
from fedi.federation.vocab import PUBLIC
from fedi.services import forums, members
from fedi.settings import Settings
from fedi.testing.peers import remote_actor_row

THREAD = {"title": "Reporting indicators", "body": "How do you count *participants*?"}


async def _member(session: AsyncSession, settings: Settings, login: str) -> Actor:
    return (await members.add_member(session, settings, login, "a long test password")).actor


async def _sent(session: AsyncSession, kind: str) -> int:
    found = await session.scalar(
        select(func.count()).where(Activity.type == kind, Activity.local.is_(True))
    )
    return int(found or 0)


async def _setup(session: AsyncSession, settings: Settings) -> tuple[Actor, Actor, Actor]:
    await ensure_instance_actors(session, settings)
    await forums.create_forum(session, settings, "reporting", "Reporting")
    anna = await _member(session, settings, "anna")
    piotr = await _member(session, settings, "piotr")
    mod = await _member(session, settings, "mod")
    await members.set_role(session, "mod", Role.MODERATOR)
    return anna, piotr, mod


async def test_only_moderators_lock_and_pin_and_once_is_enough(
    session: AsyncSession, settings: Settings
) -> None:
    anna, piotr, mod = await _setup(session, settings)
    thread = await start_thread(session, settings, anna, "reporting", THREAD)
    with pytest.raises(ForbiddenError):
        await set_locked(session, settings, anna, thread.key, True)
    with pytest.raises(ForbiddenError):
        await set_pinned(session, settings, piotr, thread.key, True)
    with pytest.raises(NotFoundError):
        await set_locked(session, settings, mod, 999_999, True)
    locked = await set_locked(session, settings, mod, thread.key, True)
    again = await set_locked(session, settings, mod, thread.key, True)
    assert locked.locked and again.locked and await _sent(session, "Lock") == 1
    assert locked.obj.document["commentsEnabled"] is False
    assert locked.obj.updated is None  # locking is no edit of the post
    with pytest.raises(ConflictError, match="locked"):
        await post_reply(session, settings, piotr, thread.key, {"body": "Late"})
    pinned = await set_pinned(session, settings, mod, thread.key, True)
    assert pinned.pinned and pinned.obj.document["stickied"] is True
    opened = await set_locked(session, settings, mod, thread.key, False)
    assert not opened.locked and "commentsEnabled" not in opened.obj.document
    assert opened.obj.document["stickied"] is True
    await post_reply(session, settings, piotr, thread.key, {"body": "In time"})
    unpinned = await set_pinned(session, settings, mod, thread.key, False)
    assert "stickied" not in unpinned.obj.document
    assert (await _sent(session, "Undo"), await _sent(session, "Add")) == (1, 1)
    assert await _sent(session, "Remove") == 1


async def test_authors_edit_and_the_page_keeps_its_state(
    session: AsyncSession, settings: Settings
) -> None:
    anna, piotr, mod = await _setup(session, settings)
    thread = await start_thread(session, settings, anna, "reporting", THREAD)
    reply = await post_reply(session, settings, piotr, thread.key, {"body": "Count heads."})
    await set_locked(session, settings, mod, thread.key, True)
    with pytest.raises(ForbiddenError):
        await edit_thread(session, settings, mod, thread.key, THREAD)
    with pytest.raises(ValidationError, match="title"):
        await edit_thread(session, settings, anna, thread.key, {"body": "x"})
    edited = await edit_thread(
        session, settings, anna, thread.key, {"title": "New title", "body": "New *body*"}
    )
    assert edited.title == "New title" and "<em>body</em>" in (edited.obj.content or "")
    assert edited.obj.document["commentsEnabled"] is False and edited.obj.updated is not None
    assert edited.obj.document["url"] == thread.obj.document["url"]
    polish = await start_thread(session, settings, anna, "reporting", {**THREAD, "language": "pl"})
    kept = await edit_thread(session, settings, anna, polish.key, {"title": "T", "body": "B"})
    assert kept.obj.language == "pl" and kept.obj.document["nameMap"] == {"pl": "T"}
    with pytest.raises(ForbiddenError):
        await edit_reply(session, settings, anna, reply.id, {"body": "Mine"})
    with pytest.raises(ValidationError, match="in_reply_to"):
        await edit_reply(session, settings, piotr, reply.id, {"body": "x", "in_reply_to": "y"})
    changed, _ = await edit_reply(session, settings, piotr, reply.id, {"body": "Count **hours**."})
    assert "<strong>hours</strong>" in (changed.content or "")
    assert changed.in_reply_to == thread.uri and changed.document["inReplyTo"] == thread.uri
    updates = (
        await session.scalars(
            select(Activity.document).where(Activity.type == "Update", Activity.local.is_(True))
        )
    ).all()
    assert [u["object"]["type"] for u in updates] == ["Page", "Page", "Note"]
    assert all(u["audience"] for u in updates)
    assert piotr.followers_url in updates[2]["cc"]


async def test_removal_keeps_the_tree_and_drops_the_answer(
    session: AsyncSession, settings: Settings
) -> None:
    anna, piotr, mod = await _setup(session, settings)
    thread = await start_thread(session, settings, anna, "reporting", THREAD)
    parent = await post_reply(session, settings, piotr, thread.key, {"body": "Parent"})
    child = await post_reply(
        session, settings, anna, thread.key, {"body": "Child", "in_reply_to": parent.uri}
    )
    lone = await post_reply(session, settings, piotr, thread.key, {"body": "Lone"})
    await mark_solution(session, settings, anna, thread.key, parent.uri)
    with pytest.raises(ForbiddenError):
        await delete_reply(session, settings, anna, parent.id)
    after = await delete_reply(session, settings, mod, parent.id, reason="Off topic")
    assert after.solution is None and after.reply_count == 2
    assert "acceptedAnswer" not in after.obj.document
    await delete_reply(session, settings, piotr, lone.id)
    page = await replies_page(session, after, limit=10, offset=0)
    assert [(r.uri, r.removed) for r in page.rows] == [(parent.uri, True), (child.uri, False)]
    assert page.total == 1
    removal = await session.scalar(
        select(Activity.document).where(Activity.type == "Delete", Activity.actor_id == mod.id)
    )
    assert removal is not None and removal["summary"] == "Off topic"
    assert removal["object"] == {"id": parent.uri, "type": "Tombstone", "formerType": "Note"}
    assert piotr.uri in removal["cc"]
    with pytest.raises(NotFoundError):
        await delete_reply(session, settings, mod, parent.id)
    with pytest.raises(ForbiddenError):
        await delete_thread(session, settings, piotr, thread.key)
    await delete_thread(session, settings, anna, thread.key)
    with pytest.raises(NotFoundError):
        await find_thread(session, thread.key)
    forum = await forums.find_forum(session, settings, "reporting")
    assert (await list_threads(session, forum, limit=10, offset=0)).total == 0


async def test_a_thread_kept_elsewhere_is_moderated_there(
    session: AsyncSession, settings: Settings
) -> None:
    _, piotr, mod = await _setup(session, settings)
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
        "commentsEnabled": False,
    }
    row = content.create(session, read_object(page), page, author_id=remote.id, local=False)
    await session.flush()
    with pytest.raises(ConflictError):
        await set_locked(session, settings, mod, row.id, True)
    with pytest.raises(ConflictError):
        await delete_thread(session, settings, mod, row.id)
    assert (await find_thread(session, row.id)).locked
    with pytest.raises(ConflictError, match="locked"):
        await post_reply(session, settings, piotr, row.id, {"body": "Too late"})
