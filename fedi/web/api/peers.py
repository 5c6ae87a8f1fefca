"""``/api/v1/admin/peers``: remote hosts with their delivery health (moderators and admins), and
``POST /api/v1/admin/peers/{host}/retry`` (admins), as on the peers page.

The list is in the troubled-first order of the page, which changes as hosts recover, so its
cursor counts the hosts already passed rather than naming a row.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from fedi.db.paging import Keyset
from fedi.errors import NotFoundError
from fedi.instance import context_of
from fedi.services.peers import PeerHealth, peer_page, retry_now
from fedi.web.access import Access, rule
from fedi.web.api.paging import page_of, page_request
from fedi.web.api.problems import Problem

__all__ = ["routes"]


def _time(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds").replace("+00:00", "Z") if value else None


def render_peer(row: PeerHealth) -> dict[str, Any]:
    return {
        "host": row.host,
        "last_success_at": _time(row.last_success_at),
        "waiting": row.waiting,
        "failures_in_a_row": row.failures,
        "last_error": row.last_error,
        "unavailable_since": _time(row.unavailable_since),
        "paused_until": _time(row.circuit_open_until),
    }


async def list_peers(request: Request) -> Response:
    context = context_of(request)
    wanted = page_request(request)
    async with context.sessions() as session:
        found = await peer_page(session, limit=wanted.limit, offset=wanted.before or 0)
    keyset = Keyset(found.rows, found.total, found.next_offset)
    page = page_of(request, context.settings.base_url, wanted, keyset)
    return JSONResponse(page.answer([render_peer(row) for row in page.rows]))


async def retry_peer(request: Request) -> Response:
    context = context_of(request)
    host = str(request.path_params["host"]).strip().lower()
    try:
        async with context.sessions.begin() as session:
            woken = await retry_now(session, host)
    except NotFoundError:
        raise Problem(404, "this server has no record of that host") from None
    return JSONResponse({"host": host, "due_now": woken})


routes = [
    rule("/api/v1/admin/peers", list_peers, Access.MODERATOR, methods=["GET"]),
    rule("/api/v1/admin/peers/{host}/retry", retry_peer, Access.ADMIN, methods=["POST"]),
]
