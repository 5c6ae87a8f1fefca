"""The peers page: remote hosts with their delivery health; admins make a host's waiting
deliveries due now ("Retry now")."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from fedi.errors import NotFoundError
from fedi.instance import context_of
from fedi.services.peers import peer_page, retry_now
from fedi.web.access import Access, principal_of, rule
from fedi.web.ui import i18n
from fedi.web.ui.forms import read_form
from fedi.web.ui.rendering import render

__all__ = ["PAGE_SIZE", "routes"]

PAGE_SIZE = 50
# Pages past this are empty anyway; the bound keeps the offset a small number.
_MAX_PAGE = 100_000


@dataclass(frozen=True)
class RetryError:
    message: str


def _page_number(request: Request) -> int:
    raw = request.query_params.get("page", "")
    if raw.isascii() and raw.isdigit() and 1 <= int(raw) <= _MAX_PAGE:
        return int(raw)
    return 1


async def _page(request: Request, status: int = 200, error: RetryError | None = None) -> Response:
    context = context_of(request)
    number = _page_number(request)
    async with context.sessions() as session:
        page = await peer_page(session, limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE)
    principal = principal_of(request)
    return render(
        request,
        "admin/peers.html",
        {
            "rows": page.rows,
            "total": page.total,
            "page_number": number,
            "has_next": page.next_offset is not None,
            "can_retry": principal is not None and principal.level >= Access.ADMIN,
            "error": error,
            "retried": request.query_params.get("retried", ""),
        },
        status_code=status,
    )


async def peers_page(request: Request) -> Response:
    return await _page(request)


async def retry(request: Request) -> Response:
    context = context_of(request)
    form = await read_form(request, "host")
    host = form.value("host").strip().lower()
    if not host:
        return await _page(request, 422, RetryError(i18n.gettext("Choose a remote host")))
    try:
        async with context.sessions.begin() as session:
            await retry_now(session, host)
    except NotFoundError:
        message = i18n.gettext("This server has no record of that host")
        return await _page(request, 404, RetryError(message))
    return RedirectResponse(f"/admin/peers?retried={quote(host, safe='')}", status_code=303)


def routes() -> list[BaseRoute]:
    return [
        rule("/admin/peers", peers_page, Access.MODERATOR, methods=["GET"]),
        rule("/admin/peers/retry", retry, Access.ADMIN, methods=["POST"]),
    ]
