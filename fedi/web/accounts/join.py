"""Joining with an invitation: the invited person picks a login and a password."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from fedi.accounts.invites import InviteUnusable, redeem_invite, usable_invite
from fedi.accounts.sessions import start_session
from fedi.actors.local import validate_username
from fedi.db.models import Invite
from fedi.errors import ConflictError, ValidationError
from fedi.instance import context_of
from fedi.services.members import MIN_PASSWORD_LENGTH
from fedi.settings import RESERVED_USERNAMES
from fedi.web.access import Access, rule
from fedi.web.accounts.cookies import set_session_cookie
from fedi.web.accounts.passwords import check_new_password
from fedi.web.ui import i18n
from fedi.web.ui.forms import FormState, read_form
from fedi.web.ui.rendering import render

__all__ = ["routes"]


def _unusable(request: Request, error: InviteUnusable) -> Response:
    messages = {
        "unknown": i18n.gettext("This invitation link is not known here. Check that it is whole."),
        "used": i18n.gettext("This invitation has been used already. Ask for a new one."),
        "withdrawn": i18n.gettext("This invitation was withdrawn. Ask for a new one."),
        "expired": i18n.gettext("This invitation has expired. Ask for a new one."),
    }
    return render(
        request,
        "accounts/join_unusable.html",
        {"message": messages[error.reason]},
        status_code=404 if error.reason == "unknown" else 410,
    )


def _page(request: Request, invite: Invite, form: FormState, status: int = 200) -> Response:
    return render(
        request,
        "accounts/join.html",
        {"invite": invite, "form": form, "min_length": MIN_PASSWORD_LENGTH},
        status_code=status,
    )


async def join_page(request: Request) -> Response:
    context = context_of(request)
    async with context.sessions() as session:
        try:
            invite = await usable_invite(session, request.path_params["token"], context.clock())
        except InviteUnusable as error:
            return _unusable(request, error)
    return _page(request, invite, FormState())


def _check_login(form: FormState, network_handle: str) -> None:
    try:
        login = validate_username(form.value("login").strip().lower())
    except ValidationError:
        form.fail(
            "login",
            i18n.gettext(
                "A login has 1 to 30 characters: lower-case letters a to z, digits or underscores"
            ),
        )
        return
    if login in RESERVED_USERNAMES | {network_handle}:
        form.fail("login", i18n.gettext("This login is reserved. Choose another one"))


async def join(request: Request) -> Response:
    context = context_of(request)
    token = request.path_params["token"]
    form = await read_form(request, "login", "password", "confirm")
    now = context.clock()
    async with context.sessions.begin() as session:
        try:
            invite = await usable_invite(session, token, now)
        except InviteUnusable as error:
            return _unusable(request, error)
        _check_login(form, context.settings.network_handle)
        check_new_password(form, "password", "confirm")
        if not form.ok:
            return _page(request, invite, form, 422)
        try:
            member = await redeem_invite(
                session,
                context.settings,
                token,
                form.value("login").strip().lower(),
                form.value("password"),
                now,
            )
        except ConflictError:
            form.fail("login", i18n.gettext("This login is taken. Choose another one"))
            return _page(request, invite, form, 422)
        session_id = await start_session(session, member, now)
    response = RedirectResponse("/account?welcome=1", status_code=303)
    set_session_cookie(response, context, session_id)
    return response


def routes() -> list[BaseRoute]:
    return [
        rule("/join/{token}", join_page, Access.PUBLIC, methods=["GET"]),
        rule("/join/{token}", join, Access.PUBLIC, methods=["POST"]),
    ]
