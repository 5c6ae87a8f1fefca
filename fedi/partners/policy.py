"""Whether new offers wait for the moderators' validation before they are published."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ["offers_need_validation", "set_validation_override"]

# The instance's choice when nothing else says: offers are published without validation.
DEFAULT_NEEDS_VALIDATION = False
_override: bool | None = None


def set_validation_override(value: bool | None) -> None:
    """Force the answer of :func:`offers_need_validation` (``None`` restores the default)."""
    global _override
    _override = value


async def offers_need_validation(session: AsyncSession) -> bool:
    """Whether a new offer waits "awaiting validation" until a moderator validates it."""
    del session  # the stored instance setting is read here once it exists
    return DEFAULT_NEEDS_VALIDATION if _override is None else _override
