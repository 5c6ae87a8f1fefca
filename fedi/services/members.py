"""Members: create, list, change role, reset password, and the first admin of a new instance."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.actors.local import create_local_actor, local_actor, validate_username
from fedi.db.models import ActorType, Member, Role
from fedi.errors import ConflictError, NotFoundError, ValidationError
from fedi.services.passwords import generate_password, hash_password
from fedi.settings import RESERVED_USERNAMES, Settings
from fedi.vocabulary import LOCALES

__all__ = [
    "FirstAdmin",
    "add_member",
    "ensure_first_admin",
    "find_member",
    "list_members",
    "member_by_id",
    "parse_role",
    "reset_password",
    "set_locale",
    "set_role",
]

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


async def set_role(session: AsyncSession, login: str, role: Role) -> Member:
    member = await find_member(session, login)
    if member.role is Role.ADMIN and role is not Role.ADMIN:
        admins = await session.scalar(
            select(func.count()).select_from(Member).where(Member.role == Role.ADMIN)
        )
        if admins == 1:
            raise ConflictError(f"{member.login!r} is the only admin; make another admin first")
    member.role = role
    await session.flush()
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
