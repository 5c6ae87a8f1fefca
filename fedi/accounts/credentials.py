"""Checking and changing a member's password."""

from __future__ import annotations

from functools import cache

import anyio.to_thread
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.db.models import Member
from fedi.errors import ValidationError
from fedi.services.members import MIN_PASSWORD_LENGTH
from fedi.services.passwords import hash_password, verify_password

__all__ = ["authenticate", "change_password"]


@cache
def _dummy_hash() -> str:
    """Verified when the login is unknown, so that it takes as long as a wrong password."""
    return hash_password("not anybody's password")


async def _verify(password: str, stored: str) -> bool:
    # scrypt takes tens of milliseconds of CPU: run it off the event loop.
    ok: bool = await anyio.to_thread.run_sync(verify_password, password, stored)
    return ok


async def authenticate(session: AsyncSession, login: str, password: str) -> Member | None:
    """The active member with this login and password, or ``None``."""
    member = await session.scalar(select(Member).where(Member.login == login.strip().lower()))
    if member is None:
        await _verify(password, _dummy_hash())
        return None
    if not await _verify(password, member.password_hash) or member.disabled:
        return None
    return member


async def change_password(member: Member, current: str, new: str) -> None:
    """Replace the password after checking the current one (flushed with the session)."""
    if not await _verify(current, member.password_hash):
        raise ValidationError("the current password is not right")
    if len(new) < MIN_PASSWORD_LENGTH:
        raise ValidationError(f"the password must be at least {MIN_PASSWORD_LENGTH} characters")
    member.password_hash = await anyio.to_thread.run_sync(hash_password, new)
