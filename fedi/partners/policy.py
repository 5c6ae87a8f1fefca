"""Whether new offers wait for the moderators' validation before they are published."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from fedi.db.models import InstanceSettings

__all__ = ["offers_need_validation", "set_validation_override"]

_override: bool | None = None


def set_validation_override(value: bool | None) -> None:
    """Force the answer of :func:`offers_need_validation` (``None`` restores the stored one)."""
    global _override
    _override = value


async def offers_need_validation(session: AsyncSession) -> bool:
    """Whether a new offer waits "awaiting validation" until a moderator validates it: as the
    administrators set it on the instance settings page (no by default)."""
    if _override is not None:
        return _override
    row = await session.get(InstanceSettings, 1)
    return row is not None and row.offers_need_validation
