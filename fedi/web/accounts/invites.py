"""The admins' invitations page: create single-use links to join, see and withdraw them."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from fedi.accounts.invites import (
    DEFAULT_EXPIRY_DAYS,
    MAX_EXPIRY_DAYS,
    create_invite,
    invite_link,
    list_invites,
    withdraw_invite,
)
from fedi.db.models import Invite, Member, Role
from fedi.errors import NotFoundError
from fedi.instance import context_of
from fedi.services.members import list_members
from fedi.web.access import Access, principal_of, rule
from fedi.web.ui import i18n
from fedi.web.ui.forms import FormState, read_form
from fedi.web.ui.pages import MAX_ROW_ID, not_found_page
from fedi.web.ui.rendering import render

__all__ = ["routes"]


def invite_state(invite: Invite, now: Any) -> str:
    if invite.used_at is not None:
        return "used"
    if invite.withdrawn_at is not None:
        return "withdrawn"
    if invite.expires_at <= now:
        return "expired"
    return "open"


async def _page(request: Request, status: int = 200, **extra: Any) -> Response:
    context = context_of(request)
    now = context.clock()
    async with context.sessions() as session:
        invites = await list_invites(session)
        logins = {member.id: member.login for member in await list_members(session)}
    return render(
        request,
        "accounts/invites.html",
        {
            "invites": [(invite, invite_state(invite, now)) for invite in invites],
            "logins": logins,
            "roles": list(Role),
            "form": extra.pop("form", FormState({"days": str(DEFAULT_EXPIRY_DAYS)})),
            "max_days": MAX_EXPIRY_DAYS,
            "new_link": extra.pop("new_link", None),
            "withdrawn": "withdrawn" in request.query_params,
        },
        status_code=status,
    )


async def invites_page(request: Request) -> Response:
    return await _page(request)


async def create(request: Request) -> Response:
    context = context_of(request)
    form = await read_form(request, "role", "days", "note")
    roles = {role.value: role for role in Role}
    role = roles.get(form.value("role"))
    if role is None:
        form.fail("role", i18n.gettext("Choose the role the new member will have"))
    days_text = form.value("days").strip()
    days = int(days_text) if days_text.isdigit() else 0
    if not 1 <= days <= MAX_EXPIRY_DAYS:
        form.fail(
            "days",
            i18n.gettext("Enter a number of days from 1 to %(max)s", max=MAX_EXPIRY_DAYS),
        )
    if len(form.value("note")) > 255:
        form.fail("note", i18n.gettext("A note has at most 255 characters"))
    if not form.ok or role is None:
        return await _page(request, 422, form=form)
    principal = principal_of(request)
    async with context.sessions.begin() as session:
        author = await session.get(Member, principal.member_id) if principal else None
        created = await create_invite(
            session,
            now=context.clock(),
            role=role,
            expires_in_days=days,
            note=form.value("note"),
            created_by=author,
        )
    return await _page(
        request,
        form=FormState({"days": str(DEFAULT_EXPIRY_DAYS)}),
        new_link=invite_link(context.settings, created.token),
    )


async def withdraw(request: Request) -> Response:
    context = context_of(request)
    invite_id: int = request.path_params["id"]
    if invite_id > MAX_ROW_ID:
        return await not_found_page(request, NotFoundError("no such invitation"))
    async with context.sessions.begin() as session:
        try:
            await withdraw_invite(session, invite_id, context.clock())
        except NotFoundError as error:
            return await not_found_page(request, error)
    return RedirectResponse("/admin/invites?withdrawn=1", status_code=303)


def routes() -> list[BaseRoute]:
    return [
        rule("/admin/invites", invites_page, Access.ADMIN, methods=["GET"]),
        rule("/admin/invites", create, Access.ADMIN, methods=["POST"]),
        rule("/admin/invites/{id:int}/withdraw", withdraw, Access.ADMIN, methods=["POST"]),
    ]
