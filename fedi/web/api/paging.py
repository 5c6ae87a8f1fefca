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

from starlette.requests import Request

from fedi.db.paging import Keyset
from fedi.web.api.problems import Problem

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_ID",
    "MAX_LIMIT",
    "Page",
    "PageRequest",
    "next_cursor",
    "page_of",
    "page_request",
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


def next_cursor(before: int) -> str:
    """The cursor that names ``before`` (a list that pages by position gives its offset)."""
    return _encode(before)


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


def page_of(request: Request, base_url: str, page: PageRequest, keyset: Keyset[T]) -> Page[T]:
    """The page of ``keyset``'s rows asked for by ``page``, with the URL of the next page
    (``base_url``, the path and the query with the new cursor)."""
    next_url = None
    if keyset.next_before is not None:
        cursor = _encode(keyset.next_before)
        params = dict(request.query_params) | {"limit": str(page.limit), "cursor": cursor}
        next_url = f"{base_url}{request.url.path}?{urlencode(params)}"
    return Page(keyset.rows, next_url, keyset.total)
