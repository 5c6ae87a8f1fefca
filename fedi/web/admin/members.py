"""The members page: who has an account, their role and state; admins change roles and suspend."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from fedi.db.models import Role
from fedi.errors import ConflictError, NotFoundError
from fedi.instance import context_of
from fedi.services.members import (
    SelfLockout,
    change_role,
    member_by_id,
    member_page,
    set_suspended,
)
from fedi.web.access import Access, principal_of, rule
from fedi.web.ui import i18n
from fedi.web.ui.forms import read_form
from fedi.web.ui.pages import MAX_ROW_ID, not_found_page
from fedi.web.ui.rendering import render

__all__ = ["PAGE_SIZE", "routes"]

PAGE_SIZE = 50


@dataclass(frozen=True)
class RowError:
    """A refused change, shown next to the field of the member's row it concerns."""

    member_id: int
    field: str
    message: str


def _before(request: Request) -> int | None:
    raw = request.query_params.get("before", "")
    if raw.isascii() and raw.isdigit() and 0 < int(raw) <= MAX_ROW_ID:
        return int(raw)
    return None


async def _page(request: Request, status: int = 200, error: RowError | None = None) -> Response:
    context = context_of(request)
    async with context.sessions() as session:
        page = await member_page(session, limit=PAGE_SIZE, before=_before(request))
    principal = principal_of(request)
    return render(
        request,
        "admin/members.html",
        {
            "rows": page.rows,
            "total": page.total,
            "next_before": page.next_before,
            "first_page": _before(request) is None,
            "roles": list(Role),
            "can_change": principal is not None and principal.level >= Access.ADMIN,
            "error": error,
            "done": request.query_params.get("done", ""),
        },
        status_code=status,
    )


async def members_page(request: Request) -> Response:
    return await _page(request)


def _refusal(error: ConflictError) -> str:
    if isinstance(error, SelfLockout):
        return i18n.gettext(
            "You cannot take away your own administrator role or suspend yourself. "
            "Ask another administrator."
        )
    return i18n.gettext(
        "This is the only active administrator. Make another member an administrator first."
    )


async def update_role(request: Request) -> Response:
    context = context_of(request)
    member_id: int = request.path_params["id"]
    if member_id > MAX_ROW_ID:
        return await not_found_page(request, NotFoundError("no such member"))
    form = await read_form(request, "role")
    role = {role.value: role for role in Role}.get(form.value("role"))
    if role is None:
        message = i18n.gettext("Choose administrator, moderator or member")
        return await _page(request, 422, RowError(member_id, "role", message))
    principal = principal_of(request)
    assert principal is not None
    try:
        async with context.sessions.begin() as session:
            actor = await member_by_id(session, principal.member_id)
            await change_role(session, member_id, role, by=actor)
    except NotFoundError as error:
        return await not_found_page(request, error)
    except ConflictError as error:
        return await _page(request, 409, RowError(member_id, "role", _refusal(error)))
    return RedirectResponse(f"/admin/members?done=role#member-{member_id}", status_code=303)


async def update_suspension(request: Request) -> Response:
    context = context_of(request)
    member_id: int = request.path_params["id"]
    if member_id > MAX_ROW_ID:
        return await not_found_page(request, NotFoundError("no such member"))
    form = await read_form(request, "action")
    action = form.value("action")
    if action not in ("suspend", "unsuspend"):
        message = i18n.gettext("Choose whether to suspend the member or lift the suspension")
        return await _page(request, 422, RowError(member_id, "action", message))
    principal = principal_of(request)
    assert principal is not None
    try:
        async with context.sessions.begin() as session:
            actor = await member_by_id(session, principal.member_id)
            await set_suspended(session, member_id, action == "suspend", by=actor)
    except NotFoundError as error:
        return await not_found_page(request, error)
    except ConflictError as error:
        return await _page(request, 409, RowError(member_id, "action", _refusal(error)))
    return RedirectResponse(f"/admin/members?done={action}#member-{member_id}", status_code=303)


def routes() -> list[BaseRoute]:
    return [
        rule("/admin/members", members_page, Access.MODERATOR, methods=["GET"]),
        rule("/admin/members/{id:int}/role", update_role, Access.ADMIN, methods=["POST"]),
        rule(
            "/admin/members/{id:int}/suspension", update_suspension, Access.ADMIN, methods=["POST"]
        ),
    ]
