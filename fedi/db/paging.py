"""Keyset pages of a query: newest first by an integer row id, with the total.

A page after ``before`` holds the rows whose id is below it, so rows created while a client pages
through never shift what the next page holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

__all__ = ["Keyset", "keyset_page"]

T = TypeVar("T")


@dataclass(frozen=True)
class Keyset(Generic[T]):
    """One page of rows, the total of the whole list, and the ``before`` of the next page
    (``None`` on the last)."""

    rows: list[T]
    total: int
    next_before: int | None


async def keyset_page(
    session: AsyncSession,
    query: Select[T],
    order: InstrumentedAttribute[int],
    *,
    limit: int,
    before: int | None,
) -> Keyset[T]:
    """At most ``limit`` of ``query``'s rows, newest first by ``order``, below ``before``."""
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    paged = query.order_by(order.desc()).limit(limit + 1)
    if before is not None:
        paged = paged.where(order < before)
    rows = list((await session.scalars(paged)).all())
    next_before = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_before = int(getattr(rows[-1], order.key))
    return Keyset(rows, int(total or 0), next_before)
