"""Members: create, list, change role, suspend, reset password, and the first admin."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.actors.local import create_local_actor, local_actor, validate_username
from fedi.db.models import ActorType, ApiToken, BrowserSession, Member, Role
from fedi.db.paging import Keyset, keyset_page
from fedi.errors import ConflictError, NotFoundError, ValidationError
from fedi.log import log_event
from fedi.services.passwords import generate_password, hash_password
from fedi.settings import RESERVED_USERNAMES, Settings
from fedi.vocabulary import LOCALES

__all__ = [
    "FirstAdmin",
    "MemberRow",
    "SelfLockout",
    "add_member",
    "change_role",
    "ensure_first_admin",
    "find_member",
    "list_members",
    "member_by_id",
    "member_page",
    "parse_role",
    "reset_password",
    "set_locale",
    "set_role",
    "set_suspended",
]

_log = logging.getLogger("fedi.members")

FIRST_ADMIN_LOGIN = "admin"
MIN_PASSWORD_LENGTH = 10


def parse_role(value: str) -> Role:
    try:
        return Role(value.strip().lower())
    except ValueError:
        raise ValidationError(
            f"unknown role {value!r}: use one of {', '.join(r.value for r in Role)}"
        ) from None


async def add_member(
    session: AsyncSession,
    settings: Settings,
    login: str,
    password: str,
    role: Role = Role.MEMBER,
    *,
    allow_reserved: bool = False,
) -> Member:
    name = validate_username(login)
    reserved = RESERVED_USERNAMES | {settings.network_handle}
    if name in reserved and not allow_reserved:
        raise ValidationError(f"{name!r} is reserved; choose another login")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(f"the password must be at least {MIN_PASSWORD_LENGTH} characters")
    if await local_actor(session, settings, name) is not None:
        raise ConflictError(f"{name!r} exists already")
    actor = create_local_actor(settings, ActorType.PERSON, name)
    member = Member(actor=actor, login=name, password_hash=hash_password(password), role=role)
    session.add(member)
    await session.flush()
    return member


async def find_member(session: AsyncSession, login: str) -> Member:
    member = await session.scalar(select(Member).where(Member.login == login.strip().lower()))
    if member is None:
        raise NotFoundError(f"no member {login!r}")
    return member


async def list_members(session: AsyncSession) -> list[Member]:
    return list((await session.scalars(select(Member).order_by(Member.login))).all())


async def _other_active_admins(session: AsyncSession, member: Member) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(Member)
        .where(Member.role == Role.ADMIN, Member.disabled.is_(False), Member.id != member.id)
    )
    return int(count or 0)


async def set_role(session: AsyncSession, login: str, role: Role) -> Member:
    member = await find_member(session, login)
    return await _apply_role(session, member, role)


async def _apply_role(session: AsyncSession, member: Member, role: Role) -> Member:
    demoted = member.role is Role.ADMIN and role is not Role.ADMIN
    if demoted and not await _other_active_admins(session, member):
        raise ConflictError(f"{member.login!r} is the only admin; make another admin first")
    member.role = role
    await session.flush()
    return member


class SelfLockout(ConflictError):
    """An admin tried to take their own admin role away or to suspend themself."""


@dataclass(frozen=True)
class MemberRow:
    """A member as the members list shows them, with when they were last seen signed in."""

    member: Member
    last_seen: datetime | None


async def member_page(
    session: AsyncSession, *, limit: int, before: int | None
) -> Keyset[MemberRow]:
    """Members newest first, ``limit`` at a time, each with their last sign-in activity
    (the latest of a browser session's last request and an API token's last use)."""
    page = await keyset_page(session, select(Member), Member.id, limit=limit, before=before)
    ids = [member.id for member in page.rows]
    seen: dict[int, datetime] = {}
    for column, owner in (
        (BrowserSession.last_seen_at, BrowserSession.member_id),
        (ApiToken.last_used_at, ApiToken.member_id),
    ):
        result = await session.execute(
            select(owner, func.max(column)).where(owner.in_(ids)).group_by(owner)
        )
        for member_id, when in result.all():
            if when is not None and (member_id not in seen or when > seen[member_id]):
                seen[member_id] = when
    rows = [MemberRow(member, seen.get(member.id)) for member in page.rows]
    return Keyset(rows, page.total, page.next_before)


async def _acted_on(session: AsyncSession, member_id: int) -> Member:
    member = await session.get(Member, member_id)
    if member is None:
        raise NotFoundError("no such member")
    return member


async def change_role(session: AsyncSession, member_id: int, role: Role, *, by: Member) -> Member:
    """An admin gives a member a role. An admin cannot take their own admin role away (they
    would lock themself out), nor leave the instance without an active admin."""
    member = await _acted_on(session, member_id)
    if member.id == by.id and role is not Role.ADMIN:
        raise SelfLockout("you cannot take away your own admin role; ask another admin")
    before = member.role
    await _apply_role(session, member, role)
    log_event(
        _log,
        "member role changed",
        by=by.login,
        member=member.login,
        before=before.value,
        after=role.value,
    )
    return member


async def set_suspended(
    session: AsyncSession, member_id: int, suspended: bool, *, by: Member
) -> Member:
    """Suspend a member (they cannot sign in; their browser sessions end at once and their API
    tokens name nobody while suspended) or lift the suspension."""
    member = await _acted_on(session, member_id)
    if suspended:
        if member.id == by.id:
            raise SelfLockout("you cannot suspend yourself")
        if member.role is Role.ADMIN and not await _other_active_admins(session, member):
            raise ConflictError(f"{member.login!r} is the only active admin")
        await session.execute(delete(BrowserSession).where(BrowserSession.member_id == member.id))
    member.disabled = suspended
    await session.flush()
    log_event(
        _log,
        "member suspended" if suspended else "member unsuspended",
        by=by.login,
        member=member.login,
    )
    return member


async def reset_password(session: AsyncSession, login: str, password: str | None = None) -> str:
    """Set a new password (a random one when none is given) and return it."""
    member = await find_member(session, login)
    new = password or generate_password()
    if len(new) < MIN_PASSWORD_LENGTH:
        raise ValidationError(f"the password must be at least {MIN_PASSWORD_LENGTH} characters")
    member.password_hash = hash_password(new)
    await session.flush()
    return new


@dataclass(frozen=True)
class FirstAdmin:
    login: str
    password: str


async def ensure_first_admin(session: AsyncSession, settings: Settings) -> FirstAdmin | None:
    """On a new instance (no members at all), create ``admin`` with a random password.

    Returns the login to show once, or ``None`` when members exist already.
    """
    if await session.scalar(select(func.count()).select_from(Member)):
        return None
    password = generate_password()
    await add_member(
        session, settings, FIRST_ADMIN_LOGIN, password, Role.ADMIN, allow_reserved=True
    )
    return FirstAdmin(FIRST_ADMIN_LOGIN, password)


async def member_by_id(session: AsyncSession, member_id: int) -> Member:
    """The member with this id, who must exist (a signed-in principal's, say)."""
    member = await session.get(Member, member_id)
    assert member is not None
    return member


async def set_locale(session: AsyncSession, member_id: int, locale: str) -> None:
    """Remember the interface language the member chose (their e-mails are written in it)."""
    if locale not in LOCALES:
        raise ValidationError(f"must be one of {', '.join(LOCALES)}", field="locale")
    member = await member_by_id(session, member_id)
    member.locale = locale
