"""Login throttling: failed logins counted per account and per address, in the database, so
the limit holds across web processes and restarts.

A key is ``account:<login>`` or ``address:<ip>``. When a key has had its limit of failures in
the last :data:`WINDOW`, logins under it are refused until the oldest of them leaves the window.
An address gets a higher limit than an account: several people may share an office's address.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.db.models import LoginFailure

__all__ = [
    "ACCOUNT_LIMIT",
    "ADDRESS_LIMIT",
    "WINDOW",
    "account_key",
    "address_key",
    "clear_failures",
    "record_failure",
    "retry_after",
]

WINDOW = timedelta(minutes=15)
ACCOUNT_LIMIT = 5
ADDRESS_LIMIT = 20


def account_key(login: str) -> str:
    return f"account:{login.strip().lower()[:300]}"


def address_key(address: str) -> str:
    return f"address:{address}"


def _limit(key: str) -> int:
    return ADDRESS_LIMIT if key.startswith("address:") else ACCOUNT_LIMIT


async def retry_after(session: AsyncSession, keys: Sequence[str], now: datetime) -> int | None:
    """Seconds until a login under ``keys`` may be tried again, or ``None`` when it may now."""
    wait: int | None = None
    for key in keys:
        rows = await session.execute(
            select(func.count(), func.min(LoginFailure.failed_at)).where(
                LoginFailure.key == key, LoginFailure.failed_at > now - WINDOW
            )
        )
        count, oldest = rows.one()
        if count >= _limit(key) and oldest is not None:
            seconds = max(1, int((oldest + WINDOW - now).total_seconds()) + 1)
            wait = max(wait or 0, seconds)
    return wait


async def record_failure(session: AsyncSession, keys: Sequence[str], now: datetime) -> None:
    """Count one failed login under every key; failures older than the window are dropped."""
    await session.execute(
        delete(LoginFailure).where(
            LoginFailure.key.in_(keys), LoginFailure.failed_at <= now - WINDOW
        )
    )
    session.add_all(LoginFailure(key=key, failed_at=now) for key in keys)
    await session.flush()


async def clear_failures(session: AsyncSession, key: str) -> None:
    """Forget the failures of an account after it signed in."""
    await session.execute(delete(LoginFailure).where(LoginFailure.key == key))
