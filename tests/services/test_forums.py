from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.actors.local import ensure_instance_actors
from fedi.crypto.keys import ed25519_public_key_from_multibase, load_public_key_pem
from fedi.db.models import Activity, Actor, ActorType, Delivery, Member, Role
from fedi.errors import ConflictError, NotFoundError, ValidationError
from fedi.federation.render import render_actor
from fedi.services import forums, members
from fedi.settings import Settings
from fedi.testing.peers import add_remote_follower, remote_actor_row


async def _count(session: AsyncSession, model: type[object]) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_forum_is_a_local_group_with_both_keys(
    session: AsyncSession, settings: Settings
) -> None:
    forum = await forums.create_forum(
        session, settings, " Employment ", "Employment and inclusion", "Jobs for everyone.\n"
    )
    assert forum.type is ActorType.GROUP and forum.local
    assert forum.username == "employment"
    assert forum.uri == "https://esf.test/groups/employment"
    assert forum.inbox == "https://esf.test/groups/employment/inbox"
    assert forum.shared_inbox == "https://esf.test/inbox"
    assert forum.display_name == "Employment and inclusion"
    assert forum.summary == "Jobs for everyone."
    assert not forum.manually_approves_followers
    assert forum.private_key_pem and forum.public_key_pem
    load_public_key_pem(forum.public_key_pem)
    assert forum.ed25519_public_multibase
    ed25519_public_key_from_multibase(forum.ed25519_public_multibase)
    assert forums.is_forum(forum, settings)
    stored = await forums.find_forum(session, settings, "EMPLOYMENT")
    assert stored.id == forum.id


async def test_only_local_groups_other_than_the_network_are_forums(
    session: AsyncSession, settings: Settings
) -> None:
    await ensure_instance_actors(session, settings)
    anna = (await members.add_member(session, settings, "anna", "long enough password")).actor
    remote_group = remote_actor_row("lemmy.test", "c")
    remote_group.type = ActorType.GROUP
    session.add(remote_group)
    await session.flush()
    actors = {a.username: a for a in (await session.scalars(select(Actor))).all()}
    assert not forums.is_forum(actors["network"], settings)
    assert not forums.is_forum(actors["instance.actor"], settings)
    assert not forums.is_forum(anna, settings)
    assert not forums.is_forum(remote_group, settings)
    assert await forums.list_forums(session, settings) == []
    with pytest.raises(NotFoundError, match="no forum 'network'"):
        await forums.find_forum(session, settings, "network")
    with pytest.raises(NotFoundError):
        await forums.find_forum(session, settings, "anna")


async def test_forums_are_listed_by_slug(session: AsyncSession, settings: Settings) -> None:
    await ensure_instance_actors(session, settings)
    await forums.create_forum(session, settings, "youth", "Youth")
    await forums.create_forum(session, settings, "employment", "Employment")
    listed = await forums.list_forums(session, settings)
    assert [(f.username, f.display_name) for f in listed] == [
        ("employment", "Employment"),
        ("youth", "Youth"),
    ]


@pytest.mark.parametrize(
    ("slug", "name", "summary", "error", "message"),
    [
        ("bad slug", "A name", "", ValidationError, "lower-case letters"),
        ("", "A name", "", ValidationError, "lower-case letters"),
        ("a-b", "A name", "", ValidationError, "lower-case letters"),
        ("x" * 31, "A name", "", ValidationError, "lower-case letters"),
        ("zażółć", "A name", "", ValidationError, "lower-case letters"),
        ("network", "A name", "", ValidationError, "network group's handle"),
        ("admin", "A name", "", ValidationError, "reserved"),
        ("inbox", "A name", "", ValidationError, "reserved"),
        ("instance.actor", "A name", "", ValidationError, "lower-case letters"),
        ("youth", "", "", ValidationError, "needs a name"),
        ("youth", "   ", "", ValidationError, "needs a name"),
        ("youth", "x" * 101, "", ValidationError, "longer than 100"),
        ("youth", "two\nlines", "", ValidationError, "one line"),
        ("youth", "A name", "x" * 2001, ValidationError, "longer than 2000"),
        ("youth", "A name", "bell\x07", ValidationError, "control characters"),
    ],
)
async def test_bad_forums_are_refused_and_nothing_is_stored(
    session: AsyncSession,
    settings: Settings,
    slug: str,
    name: str,
    summary: str,
    error: type[Exception],
    message: str,
) -> None:
    with pytest.raises(error, match=message):
        await forums.create_forum(session, settings, slug, name, summary)
    assert await _count(session, Actor) == 0


async def test_a_slug_in_use_is_a_conflict_and_nothing_is_stored(
    session: AsyncSession, settings: Settings
) -> None:
    await ensure_instance_actors(session, settings)
    await members.add_member(session, settings, "anna", "long enough password")
    await forums.create_forum(session, settings, "youth", "Youth")
    before = await _count(session, Actor)
    with pytest.raises(ConflictError, match="'anna' is taken by a member"):
        await forums.create_forum(session, settings, "Anna", "Anna's forum")
    with pytest.raises(ConflictError, match="forum 'youth' exists already"):
        await forums.create_forum(session, settings, "youth", "Youth again")
    assert await _count(session, Actor) == before
    # And the other way round: no member may take a forum's name.
    with pytest.raises(ConflictError, match="exists already"):
        await members.add_member(session, settings, "youth", "long enough password")
    assert await _count(session, Member) == 1


async def test_a_renamed_network_handle_is_still_refused(
    session: AsyncSession, settings: Settings
) -> None:
    custom = dataclasses.replace(settings, network_handle="esf_pl")
    with pytest.raises(ValidationError, match="network group's handle"):
        await forums.create_forum(session, custom, "esf_pl", "Not the network")
    # ``network`` is an ordinary slug on that instance.
    forum = await forums.create_forum(session, custom, "network", "Networking")
    assert forums.is_forum(forum, custom)


async def test_update_changes_name_and_summary_and_tells_followers(
    session: AsyncSession, settings: Settings
) -> None:
    forum = await forums.create_forum(session, settings, "youth", "Youth", "Old text")
    await add_remote_follower(session, forum, "lemmy.test", "reader")
    updated = await forums.update_forum(
        session, settings, "youth", name=" Youth employment ", summary="New text"
    )
    assert (updated.display_name, updated.summary) == ("Youth employment", "New text")
    [update] = (await session.scalars(select(Activity).where(Activity.type == "Update"))).all()
    assert update.document["actor"] == forum.uri
    assert update.document["object"] == render_actor(forum, settings)
    assert update.document["object"]["name"] == "Youth employment"
    assert update.document["object"]["summary"] == "<p>New text</p>"
    [delivery] = (await session.scalars(select(Delivery))).all()
    assert delivery.inbox == "https://lemmy.test/inbox"

    # An empty summary clears it; the name stays.
    await forums.update_forum(session, settings, "youth", summary="")
    assert (forum.display_name, forum.summary) == ("Youth employment", "")
    assert await _count(session, Activity) == 2


async def test_an_update_that_changes_nothing_sends_nothing(
    session: AsyncSession, settings: Settings
) -> None:
    forum = await forums.create_forum(session, settings, "youth", "Youth", "Text")
    await add_remote_follower(session, forum, "lemmy.test", "reader")
    await forums.update_forum(session, settings, "youth", name="Youth", summary="Text")
    assert await _count(session, Activity) == 0
    assert await _count(session, Delivery) == 0


@pytest.mark.parametrize(
    ("slug", "changes", "error", "message"),
    [
        ("youth", {}, ValidationError, "nothing to change"),
        ("youth", {"name": ""}, ValidationError, "needs a name"),
        ("youth", {"name": "New", "summary": "x" * 2001}, ValidationError, "longer than 2000"),
        ("nobody", {"name": "New"}, NotFoundError, "no forum 'nobody'"),
        ("network", {"name": "New"}, NotFoundError, "no forum 'network'"),
    ],
)
async def test_bad_updates_change_nothing(
    session: AsyncSession,
    settings: Settings,
    slug: str,
    changes: dict[str, str],
    error: type[Exception],
    message: str,
) -> None:
    await ensure_instance_actors(session, settings)
    forum = await forums.create_forum(session, settings, "youth", "Youth", "Text")
    with pytest.raises(error, match=message):
        await forums.update_forum(session, settings, slug, **changes)
    assert (forum.display_name, forum.summary) == ("Youth", "Text")
    network = await session.scalar(select(Actor).where(Actor.username == "network"))
    assert network is not None and network.display_name == settings.instance_name
    assert await _count(session, Activity) == 0


async def test_moderators_are_the_active_admins_and_moderators(
    session: AsyncSession, settings: Settings
) -> None:
    for login, role in (
        ("zoe", Role.ADMIN),
        ("anna", Role.MODERATOR),
        ("bob", Role.MEMBER),
        ("cem", Role.MODERATOR),
    ):
        await members.add_member(session, settings, login, "long enough password", role)
    cem = await members.find_member(session, "cem")
    cem.disabled = True
    await session.flush()
    moderators = await forums.forum_moderators(session)
    assert [actor.username for actor in moderators] == ["anna", "zoe"]
