"""Cursor pagination of API lists: ``?limit=`` (20, at most 100) and an opaque ``?cursor=``.

Lists are ordered newest first by row id, and a cursor names the last id of the page it follows,
so that items created while a client pages through never shift what the next page holds. The
answer is ``{"items", "next", "total"}``, ``next`` a URL (or ``null`` on the last page).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from starlette.requests import Request

from fedi.web.api.problems import Problem

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_ID",
    "MAX_LIMIT",
    "Page",
    "PageRequest",
    "page_request",
    "paginate",
]

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
# Row ids are INTEGER columns, 32 bits on PostgreSQL, which refuses a larger number outright.
MAX_ID = 2**31 - 1

T = TypeVar("T")


@dataclass(frozen=True)
class PageRequest:
    limit: int
    before: int | None


# A cursor is the last id of the page it follows, in base 36: opaque to clients, and any string
# of its alphabet is a valid cursor, so the OpenAPI pattern describes exactly what is accepted.
_CURSOR = re.compile(r"[0-9a-z]{1,12}")
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _encode(before: int) -> str:
    digits = ""
    while True:
        before, digit = divmod(before, 36)
        digits = _DIGITS[digit] + digits
        if before == 0:
            return digits


def _decode(cursor: str) -> int:
    """The id a cursor names; one past every id stands for them all."""
    if not _CURSOR.fullmatch(cursor):
        raise Problem(400, "the cursor is not one this server gave")
    return min(int(cursor, 36), MAX_ID)


def page_request(request: Request) -> PageRequest:
    """``limit`` and ``cursor`` from the query: 422 for a bad limit, 400 for a bad cursor."""
    raw = request.query_params.get("limit")
    limit = DEFAULT_LIMIT
    if raw is not None:
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_LIMIT:
            raise Problem(
                422,
                f"limit must be a whole number from 1 to {MAX_LIMIT}",
                errors={"limit": [f"must be a whole number from 1 to {MAX_LIMIT}"]},
            )
        limit = int(raw)
    cursor = request.query_params.get("cursor")
    return PageRequest(limit, None if cursor is None else _decode(cursor))


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of rows; :meth:`answer` gives the API's list object once they are rendered."""

    rows: list[T]
    next: str | None
    total: int

    def answer(self, items: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        return {"items": items, "next": self.next, "total": self.total, **extra}


async def paginate(
    session: AsyncSession,
    request: Request,
    base_url: str,
    query: Select[T],
    order: InstrumentedAttribute[int],
) -> Page[T]:
    """One page of ``query``'s rows, newest first by ``order``, with the total and the URL of
    the next page (``base_url``, the path and the query with the new cursor)."""
    page = page_request(request)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    paged = query.order_by(order.desc()).limit(page.limit + 1)
    if page.before is not None:
        paged = paged.where(order < page.before)
    rows = list((await session.scalars(paged)).all())
    next_url = None
    if len(rows) > page.limit:
        rows = rows[: page.limit]
        last = getattr(rows[-1], order.key)
        params = dict(request.query_params) | {"limit": str(page.limit), "cursor": _encode(last)}
        next_url = f"{base_url}{request.url.path}?{urlencode(params)}"
    return Page(rows, next_url, int(total or 0))
