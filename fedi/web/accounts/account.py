"""The account page: who you are, your password, and your personal API tokens."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from fedi.accounts.credentials import change_password
from fedi.accounts.sessions import end_other_sessions
from fedi.db.models import Member
from fedi.errors import NotFoundError, ValidationError
from fedi.instance import context_of
from fedi.services.members import MIN_PASSWORD_LENGTH
from fedi.services.tokens import issue_token, list_tokens, revoke_token
from fedi.web.access import Access, Principal, principal_of, rule
from fedi.web.accounts.cookies import session_token
from fedi.web.accounts.passwords import check_new_password
from fedi.web.ui import i18n
from fedi.web.ui.forms import FormState, read_form
from fedi.web.ui.pages import MAX_ROW_ID, not_found_page
from fedi.web.ui.rendering import render

__all__ = ["routes"]

# Query parameters the account page is redirected to after an action, each showing a notice.
NOTICES = ("password", "revoked", "welcome")


def _signed_in(request: Request) -> Principal:
    principal = principal_of(request)
    assert principal is not None  # the route's rule asks for a member
    return principal


async def _page(request: Request, member: Member, status: int = 200, **extra: Any) -> Response:
    context = context_of(request)
    async with context.sessions() as session:
        tokens = await list_tokens(session, member)
    notice = next((key for key in NOTICES if key in request.query_params), None)
    return render(
        request,
        "accounts/account.html",
        {
            "member": member,
            "tokens": tokens,
            "notice": notice,
            "min_length": MIN_PASSWORD_LENGTH,
            "password_form": extra.pop("password_form", FormState()),
            "token_form": extra.pop("token_form", FormState()),
            "new_token": extra.pop("new_token", None),
        },
        status_code=status,
    )


async def _member(request: Request) -> Member:
    context = context_of(request)
    async with context.sessions() as session:
        member = await session.get(Member, _signed_in(request).member_id)
    assert member is not None  # the session or token named an existing member
    return member


async def account_page(request: Request) -> Response:
    return await _page(request, await _member(request))


async def password(request: Request) -> Response:
    context = context_of(request)
    form = await read_form(request, "current", "password", "confirm")
    if not form.value("current"):
        form.fail("current", i18n.gettext("Enter your current password"))
    check_new_password(form, "password", "confirm")
    async with context.sessions.begin() as session:
        member = await session.get(Member, _signed_in(request).member_id)
        assert member is not None
        if form.ok:
            try:
                await change_password(member, form.value("current"), form.value("password"))
            except ValidationError:
                form.fail("current", i18n.gettext("The current password is not right"))
            else:
                await end_other_sessions(session, member, keep=session_token(request))
    if not form.ok:
        return await _page(request, member, 422, password_form=form)
    return RedirectResponse("/account?password=1#password", status_code=303)


async def create_token(request: Request) -> Response:
    context = context_of(request)
    form = await read_form(request, "label")
    label = form.value("label").strip()
    if len(label) > 100:
        form.fail("label", i18n.gettext("A name has at most 100 characters"))
        return await _page(request, await _member(request), 422, token_form=form)
    async with context.sessions.begin() as session:
        member = await session.get(Member, _signed_in(request).member_id)
        assert member is not None
        token = await issue_token(session, member.login, label)
    return await _page(request, member, new_token=token)


async def revoke(request: Request) -> Response:
    context = context_of(request)
    token_id: int = request.path_params["id"]
    if token_id > MAX_ROW_ID:
        return await not_found_page(request, NotFoundError("no such token"))
    async with context.sessions.begin() as session:
        member = await session.get(Member, _signed_in(request).member_id)
        assert member is not None
        try:
            await revoke_token(session, member, token_id)
        except NotFoundError as error:
            return await not_found_page(request, error)
    return RedirectResponse("/account?revoked=1#tokens", status_code=303)


def routes() -> list[BaseRoute]:
    return [
        rule("/account", account_page, Access.MEMBER, methods=["GET"]),
        rule("/account/password", password, Access.MEMBER, methods=["POST"]),
        rule("/account/tokens", create_token, Access.MEMBER, methods=["POST"]),
        rule("/account/tokens/{id:int}/revoke", revoke, Access.MEMBER, methods=["POST"]),
    ]
