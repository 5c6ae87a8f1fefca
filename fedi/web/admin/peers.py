"""The peers page: the peered networks (admins add one, read its offers now or stop peering;
:mod:`fedi.peers.service`), then every remote host with its delivery health (admins make a host's
waiting deliveries due now, "Retry now")."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from fedi.errors import NotFoundError, ValidationError
from fedi.instance import context_of
from fedi.peers import service as peering
from fedi.peers.sync import SyncError, SyncResult, sync_peer
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


async def _page(
    request: Request,
    status: int = 200,
    error: RetryError | None = None,
    *,
    peer_error: str | None = None,
    notice: str | None = None,
    url: str = "",
) -> Response:
    context = context_of(request)
    number = _page_number(request)
    async with context.sessions() as session:
        page = await peer_page(session, limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE)
        networks = await peering.list_peers(session, context.settings)
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
            "networks": networks,
            "peer_error": peer_error,
            "notice": notice,
            "url": url,
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


def _read(result: SyncResult) -> str:
    return i18n.gettext(
        "%(listed)s offers listed: %(created)s new, %(revised)s changed, %(withdrawn)s withdrawn.",
        listed=result.listed,
        created=result.created,
        revised=result.revised,
        withdrawn=result.withdrawn,
    )


async def add_network(request: Request) -> Response:
    context = context_of(request)
    form = await read_form(request, "url")
    url = form.value("url").strip()
    if not url:
        return await _page(request, 422, peer_error=i18n.gettext("Enter the address of a network"))
    try:
        peer = await peering.add_peer(context, url)
    except ValidationError:
        message = i18n.gettext("Enter an address such as https://esf.example.it")
        return await _page(request, 422, peer_error=message, url=url)
    except peering.PeeringError as exc:
        message = i18n.gettext("No peering with %(url)s: %(reason)s", url=url, reason=str(exc))
        return await _page(request, 422, peer_error=message, url=url)
    try:
        read = _read(await sync_peer(context, peer.host))
    except SyncError:
        read = i18n.gettext("Its offers could not be read yet; the server tries again shortly.")
    notice = i18n.gettext("Peered with %(host)s.", host=peer.host) + " " + read
    return await _page(request, notice=notice)


async def sync_network(request: Request) -> Response:
    context = context_of(request)
    form = await read_form(request, "host")
    host = form.value("host").strip().lower()
    try:
        result = await sync_peer(context, host)
    except NotFoundError:
        return await _page(request, 404, peer_error=i18n.gettext("That host is not a peer"))
    except SyncError as exc:
        message = i18n.gettext(
            "The offers of %(host)s could not be read: %(reason)s", host=host, reason=str(exc)
        )
        return await _page(request, 502, peer_error=message)
    return await _page(request, notice=f"{host}: {_read(result)}")


async def remove_network(request: Request) -> Response:
    context = context_of(request)
    form = await read_form(request, "host")
    host = form.value("host").strip().lower()
    try:
        async with context.sessions.begin() as session:
            withdrawn = await peering.remove_peer(session, context.settings, host)
    except NotFoundError:
        return await _page(request, 404, peer_error=i18n.gettext("That host is not a peer"))
    notice = i18n.ngettext(
        "No longer peered with %(host)s; %(num)s of its offers left the search.",
        "No longer peered with %(host)s; %(num)s of its offers left the search.",
        withdrawn,
        host=host,
    )
    return await _page(request, notice=notice)


def routes() -> list[BaseRoute]:
    return [
        rule("/admin/peers", peers_page, Access.MODERATOR, methods=["GET"]),
        rule("/admin/peers/retry", retry, Access.ADMIN, methods=["POST"]),
        rule("/admin/peers/add", add_network, Access.ADMIN, methods=["POST"]),
        rule("/admin/peers/sync", sync_network, Access.ADMIN, methods=["POST"]),
        rule("/admin/peers/remove", remove_network, Access.ADMIN, methods=["POST"]),
    ]
