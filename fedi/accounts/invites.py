"""Invitations: single-use links, created by admins, that let one person join with a role.

Only a hash of the link's token is stored, so the link is shown once, when it is created.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.db.models import Invite, Member, Role
from fedi.errors import FediError, NotFoundError, ValidationError
from fedi.services.members import add_member
from fedi.settings import Settings

__all__ = [
    "DEFAULT_EXPIRY_DAYS",
    "MAX_EXPIRY_DAYS",
    "CreatedInvite",
    "InviteUnusable",
    "create_invite",
    "invite_link",
    "list_invites",
    "redeem_invite",
    "usable_invite",
    "withdraw_invite",
]

DEFAULT_EXPIRY_DAYS = 7
MAX_EXPIRY_DAYS = 90


class InviteUnusable(FediError):
    """The link is unknown, used, withdrawn or expired (``reason`` says which)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"this invitation is {reason}")
        self.reason = reason


@dataclass(frozen=True)
class CreatedInvite:
    invite: Invite
    token: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite_link(settings: Settings, token: str) -> str:
    return f"{settings.base_url}/join/{token}"


async def create_invite(
    session: AsyncSession,
    *,
    now: datetime,
    role: Role = Role.MEMBER,
    expires_in_days: int = DEFAULT_EXPIRY_DAYS,
    note: str = "",
    created_by: Member | None = None,
) -> CreatedInvite:
    """A new invitation valid for ``expires_in_days`` (1 to :data:`MAX_EXPIRY_DAYS`)."""
    if not 1 <= expires_in_days <= MAX_EXPIRY_DAYS:
        raise ValidationError(f"an invitation lasts from 1 to {MAX_EXPIRY_DAYS} days")
    token = secrets.token_urlsafe(24)
    invite = Invite(
        token_hash=_hash(token),
        role=role,
        note=note.strip()[:255],
        created_by_id=created_by.id if created_by is not None else None,
        created_at=now,
        expires_at=now + timedelta(days=expires_in_days),
    )
    session.add(invite)
    await session.flush()
    return CreatedInvite(invite, token)


async def list_invites(session: AsyncSession) -> list[Invite]:
    """Every invitation, newest first."""
    return list((await session.scalars(select(Invite).order_by(Invite.id.desc()))).all())


async def usable_invite(session: AsyncSession, token: str, now: datetime) -> Invite:
    """The invitation behind ``token``, or :class:`InviteUnusable` saying why not."""
    invite = await session.scalar(select(Invite).where(Invite.token_hash == _hash(token)))
    if invite is None:
        raise InviteUnusable("unknown")
    if invite.used_at is not None:
        raise InviteUnusable("used")
    if invite.withdrawn_at is not None:
        raise InviteUnusable("withdrawn")
    if invite.expires_at <= now:
        raise InviteUnusable("expired")
    return invite


async def redeem_invite(
    session: AsyncSession, settings: Settings, token: str, login: str, password: str, now: datetime
) -> Member:
    """Create the member the invitation is for and use the invitation up, in one transaction."""
    invite = await usable_invite(session, token, now)
    member = await add_member(session, settings, login, password, invite.role)
    invite.used_at = now
    invite.used_by_id = member.id
    await session.flush()
    return member


async def withdraw_invite(session: AsyncSession, invite_id: int, now: datetime) -> Invite:
    invite = await session.get(Invite, invite_id)
    if invite is None:
        raise NotFoundError(f"no invitation {invite_id}")
    if invite.used_at is None and invite.withdrawn_at is None:
        invite.withdrawn_at = now
        await session.flush()
    return invite
