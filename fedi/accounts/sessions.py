"""Signed-in browser sessions, stored in the database so that every web process sees them.

The cookie carries a random token; the table keeps its hash. Each login makes a new session
(a new token), so a session id planted before login is never the one signed in.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.db.models import BrowserSession, Member

__all__ = [
    "SESSION_LIFETIME",
    "end_other_sessions",
    "end_session",
    "member_for_session",
    "start_session",
]

SESSION_LIFETIME = timedelta(days=14)
# How stale ``last_seen_at`` may get before a request writes it again.
_SEEN_RESOLUTION = timedelta(minutes=5)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def start_session(session: AsyncSession, member: Member, now: datetime) -> str:
    """A new session for ``member``; returns the token for the cookie. Expired sessions of
    the member are removed on the way."""
    await session.execute(
        delete(BrowserSession).where(
            BrowserSession.member_id == member.id, BrowserSession.expires_at <= now
        )
    )
    token = secrets.token_urlsafe(32)
    session.add(
        BrowserSession(
            token_hash=_hash(token),
            member_id=member.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + SESSION_LIFETIME,
        )
    )
    await session.flush()
    return token


async def member_for_session(session: AsyncSession, token: str, now: datetime) -> Member | None:
    """The active member signed in with ``token``, or ``None`` (unknown, expired, disabled).
    Using a session extends it (sliding expiry)."""
    row = await session.scalar(
        select(BrowserSession).where(BrowserSession.token_hash == _hash(token))
    )
    if row is None or row.expires_at <= now:
        return None
    member = await session.get(Member, row.member_id)
    if member is None or member.disabled:
        return None
    if now - row.last_seen_at >= _SEEN_RESOLUTION:
        row.last_seen_at = now
        row.expires_at = now + SESSION_LIFETIME
    return member


async def end_session(session: AsyncSession, token: str) -> None:
    await session.execute(delete(BrowserSession).where(BrowserSession.token_hash == _hash(token)))


async def end_other_sessions(session: AsyncSession, member: Member, keep: str | None) -> None:
    """Sign the member out everywhere but the session ``keep`` (after a password change)."""
    statement = delete(BrowserSession).where(BrowserSession.member_id == member.id)
    if keep is not None:
        statement = statement.where(BrowserSession.token_hash != _hash(keep))
    await session.execute(statement)
