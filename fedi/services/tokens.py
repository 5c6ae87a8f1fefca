"""Bearer tokens for client-to-server publishing. The token is shown once; only its hash is kept."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.db.models import ApiToken, Member, utcnow
from fedi.services.members import find_member

__all__ = ["TOKEN_PREFIX", "issue_token", "member_for_token"]

TOKEN_PREFIX = "fedi_"  # noqa: S105 - a visible prefix, not a secret


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue_token(session: AsyncSession, login: str, label: str = "") -> str:
    member = await find_member(session, login)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(member_id=member.id, token_hash=_hash(token), label=label))
    await session.flush()
    return token


async def member_for_token(session: AsyncSession, token: str) -> Member | None:
    """The active member a token belongs to, or ``None`` (unknown, revoked or disabled)."""
    row = await session.scalar(
        select(ApiToken).where(ApiToken.token_hash == _hash(token), ApiToken.revoked_at.is_(None))
    )
    if row is None:
        return None
    member = await session.get(Member, row.member_id)
    if member is None or member.disabled:
        return None
    row.last_used_at = utcnow()
    return member
