"""The domains page: domain blocks, and allowlist-only federation with its allowlist (admins)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from fedi.blocks.allowlist import (
    add_allowed,
    allowlist_only,
    list_allowed,
    remove_allowed,
    set_allowlist_only,
)
from fedi.blocks.service import add_block, list_blocks, normalise_domain, remove_block
from fedi.db.models import BlockSeverity
from fedi.errors import NotFoundError, ValidationError
from fedi.instance import context_of
from fedi.web.access import Access, rule
from fedi.web.ui import i18n
from fedi.web.ui.forms import FormState, read_form
from fedi.web.ui.pages import not_found_page
from fedi.web.ui.rendering import render

__all__ = ["MAX_REASON", "routes"]

MAX_REASON = 1000
_PAGE = "/admin/domains"


async def _page(request: Request, form: FormState | None = None, status: int = 200) -> Response:
    async with context_of(request).sessions() as session:
        blocks = await list_blocks(session)
        allowed = await list_allowed(session)
        mode = await allowlist_only(session)
    return render(
        request,
        "admin/domains.html",
        {
            "blocks": blocks,
            "allowed": allowed,
            "allowlist_only": mode,
            "form": form or FormState({"severity": BlockSeverity.SUSPEND.value}),
            "max_reason": MAX_REASON,
            "done": request.query_params.get("done", ""),
        },
        status_code=status,
    )


async def domains_page(request: Request) -> Response:
    return await _page(request)


def _checked_domain(form: FormState, field: str) -> None:
    value = form.value(field).strip()
    if not value:
        form.fail(field, i18n.gettext("Enter a domain, such as example.com"))
        return
    try:
        normalise_domain(value)
    except ValidationError:
        form.fail(field, i18n.gettext("Enter a domain name, such as example.com"))


async def create_block(request: Request) -> Response:
    form = await read_form(request, "domain", "reason", "severity")
    _checked_domain(form, "domain")
    severity = {s.value: s for s in BlockSeverity}.get(form.value("severity"))
    if severity is None:
        form.fail("severity", i18n.gettext("Choose suspend or silence"))
    if len(form.value("reason")) > MAX_REASON:
        form.fail(
            "reason",
            i18n.ngettext("At most %(num)s character.", "At most %(num)s characters.", MAX_REASON),
        )
    if not form.ok or severity is None:
        return await _page(request, form, 422)
    async with context_of(request).sessions.begin() as session:
        await add_block(session, form.value("domain"), severity, form.value("reason").strip())
    return RedirectResponse(f"{_PAGE}?done=blocked", status_code=303)


async def delete_block(request: Request) -> Response:
    form = await read_form(request, "domain")
    try:
        async with context_of(request).sessions.begin() as session:
            await remove_block(session, form.value("domain"))
    except (NotFoundError, ValidationError):
        return await not_found_page(request, NotFoundError("no such block"))
    return RedirectResponse(f"{_PAGE}?done=unblocked", status_code=303)


async def update_mode(request: Request) -> Response:
    form = await read_form(request, "mode")
    mode = form.value("mode")
    if mode not in ("allowlist", "open"):
        form.fail("mode", i18n.gettext("Choose open federation or allowlist only"))
        return await _page(request, form, 422)
    async with context_of(request).sessions.begin() as session:
        await set_allowlist_only(session, mode == "allowlist")
    return RedirectResponse(f"{_PAGE}?done={mode}", status_code=303)


async def create_allowed(request: Request) -> Response:
    form = await read_form(request, "allowed")
    _checked_domain(form, "allowed")
    if not form.ok:
        return await _page(request, form, 422)
    async with context_of(request).sessions.begin() as session:
        await add_allowed(session, form.value("allowed"))
    return RedirectResponse(f"{_PAGE}?done=allowed", status_code=303)


async def delete_allowed(request: Request) -> Response:
    form = await read_form(request, "allowed")
    try:
        async with context_of(request).sessions.begin() as session:
            await remove_allowed(session, form.value("allowed"))
    except (NotFoundError, ValidationError):
        return await not_found_page(request, NotFoundError("not on the allowlist"))
    return RedirectResponse(f"{_PAGE}?done=disallowed", status_code=303)


def routes() -> list[BaseRoute]:
    return [
        rule(_PAGE, domains_page, Access.ADMIN, methods=["GET"]),
        rule(f"{_PAGE}/blocks", create_block, Access.ADMIN, methods=["POST"]),
        rule(f"{_PAGE}/blocks/remove", delete_block, Access.ADMIN, methods=["POST"]),
        rule(f"{_PAGE}/mode", update_mode, Access.ADMIN, methods=["POST"]),
        rule(f"{_PAGE}/allowlist", create_allowed, Access.ADMIN, methods=["POST"]),
        rule(f"{_PAGE}/allowlist/remove", delete_allowed, Access.ADMIN, methods=["POST"]),
    ]
