"""Bearer tokens for client-to-server publishing. The token is shown once; only its hash is kept."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.db.models import ApiToken, Member, utcnow
from fedi.errors import NotFoundError
from fedi.services.members import find_member

__all__ = ["TOKEN_PREFIX", "issue_token", "list_tokens", "member_for_token", "revoke_token"]

TOKEN_PREFIX = "fedi_"  # noqa: S105 - a visible prefix, not a secret


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue_token(session: AsyncSession, login: str, label: str = "") -> str:
    member = await find_member(session, login)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(member_id=member.id, token_hash=_hash(token), label=label))
    await session.flush()
    return token


async def list_tokens(session: AsyncSession, member: Member) -> list[ApiToken]:
    """The member's tokens that still work, newest first."""
    rows = await session.scalars(
        select(ApiToken)
        .where(ApiToken.member_id == member.id, ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.id.desc())
    )
    return list(rows.all())


async def revoke_token(session: AsyncSession, member: Member, token_id: int) -> None:
    """Revoke one of the member's own tokens (another member's is "not found")."""
    row = await session.get(ApiToken, token_id)
    if row is None or row.member_id != member.id:
        raise NotFoundError(f"no token {token_id}")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        await session.flush()


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
