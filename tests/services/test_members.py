from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.actors.local import ensure_instance_actors
from fedi.crypto.keys import ed25519_public_key_from_multibase, load_public_key_pem
from fedi.db.models import Actor, ActorType, Member, Role
from fedi.errors import ConflictError, NotFoundError, ValidationError
from fedi.services import members
from fedi.services.passwords import verify_password
from fedi.settings import Settings


async def _count(session: AsyncSession, model: type[object]) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_first_admin_is_created_once(session: AsyncSession, settings: Settings) -> None:
    first = await members.ensure_first_admin(session, settings)
    assert first is not None
    assert first.login == "admin"
    admin = await members.find_member(session, "admin")
    assert admin.role is Role.ADMIN
    assert verify_password(first.password, admin.password_hash)
    assert not verify_password(first.password + "x", admin.password_hash)
    assert await members.ensure_first_admin(session, settings) is None
    assert await _count(session, Member) == 1


async def test_member_gets_a_person_actor_with_both_keys(
    session: AsyncSession, settings: Settings
) -> None:
    member = await members.add_member(session, settings, "Anna_K", "correct horse battery")
    actor = member.actor
    assert member.login == "anna_k"
    assert actor.type is ActorType.PERSON
    assert actor.uri == "https://esf.test/users/anna_k"
    assert actor.public_key_id == "https://esf.test/users/anna_k#main-key"
    assert actor.private_key_pem and actor.public_key_pem
    load_public_key_pem(actor.public_key_pem)
    assert actor.ed25519_public_multibase
    ed25519_public_key_from_multibase(actor.ed25519_public_multibase)


@pytest.mark.parametrize(
    ("login", "password", "error"),
    [
        ("bad login", "long enough password", ValidationError),
        ("network", "long enough password", ValidationError),
        ("admin", "long enough password", ValidationError),
        ("anna", "short", ValidationError),
    ],
)
async def test_bad_members_are_refused_and_nothing_is_stored(
    session: AsyncSession, settings: Settings, login: str, password: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        await members.add_member(session, settings, login, password)
    assert await _count(session, Member) == 0
    assert await _count(session, Actor) == 0


async def test_duplicate_login_is_a_conflict(session: AsyncSession, settings: Settings) -> None:
    await members.add_member(session, settings, "anna", "long enough password")
    with pytest.raises(ConflictError):
        await members.add_member(session, settings, "ANNA", "another long password")


async def test_the_last_admin_cannot_be_demoted(session: AsyncSession, settings: Settings) -> None:
    await members.ensure_first_admin(session, settings)
    with pytest.raises(ConflictError, match="only admin"):
        await members.set_role(session, "admin", Role.MEMBER)
    await members.add_member(session, settings, "bob", "long enough password", Role.ADMIN)
    demoted = await members.set_role(session, "admin", Role.MODERATOR)
    assert demoted.role is Role.MODERATOR


async def test_reset_password(session: AsyncSession, settings: Settings) -> None:
    member = await members.add_member(session, settings, "anna", "long enough password")
    new = await members.reset_password(session, "anna")
    assert verify_password(new, member.password_hash)
    assert not verify_password("long enough password", member.password_hash)
    with pytest.raises(NotFoundError):
        await members.reset_password(session, "nobody")


async def test_instance_actors_are_created_once(session: AsyncSession, settings: Settings) -> None:
    await ensure_instance_actors(session, settings)
    await ensure_instance_actors(session, settings)
    actors = (await session.scalars(select(Actor).order_by(Actor.username))).all()
    assert [(a.username, a.type, a.uri) for a in actors] == [
        ("instance.actor", ActorType.APPLICATION, "https://esf.test/actor"),
        ("network", ActorType.GROUP, "https://esf.test/groups/network"),
    ]
