"""Signing in and out. Failed logins are throttled per account and per address."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from fedi.accounts import throttle
from fedi.accounts.credentials import authenticate
from fedi.accounts.sessions import end_session, start_session
from fedi.instance import context_of
from fedi.web.access import Access, principal_of, rule
from fedi.web.accounts.cookies import clear_session_cookie, session_token, set_session_cookie
from fedi.web.ui import i18n
from fedi.web.ui.forms import FormState, read_form
from fedi.web.ui.pages import local_path, too_many_page
from fedi.web.ui.rendering import render

__all__ = ["routes"]


def _login_page(request: Request, form: FormState, status: int = 200) -> Response:
    return render(request, "accounts/login.html", {"form": form}, status_code=status)


async def login_page(request: Request) -> Response:
    if principal_of(request) is not None:
        return RedirectResponse(local_path(request.query_params.get("next", ""), "/account"), 303)
    return _login_page(request, FormState({"next": request.query_params.get("next", "")}))


async def login(request: Request) -> Response:
    context = context_of(request)
    form = await read_form(request, "login", "password", "next")
    if not form.value("login").strip():
        form.fail("login", i18n.gettext("Enter your login"))
    if not form.value("password"):
        form.fail("password", i18n.gettext("Enter your password"))
    if not form.ok:
        return _login_page(request, form, 422)
    address = request.client.host if request.client is not None else "unknown"
    keys = (throttle.account_key(form.value("login")), throttle.address_key(address))
    now = context.clock()
    async with context.sessions.begin() as session:
        wait = await throttle.retry_after(session, keys, now)
        if wait is not None:
            return too_many_page(request, wait)
        member = await authenticate(session, form.value("login"), form.value("password"))
        if member is None:
            await throttle.record_failure(session, keys, now)
            wait = await throttle.retry_after(session, keys, now)
        else:
            await throttle.clear_failures(session, keys[0])
            token = await start_session(session, member, now)
    if member is None:
        if wait is not None:
            return too_many_page(request, wait)
        form.fail("password", i18n.gettext("The login or the password is not right"))
        return _login_page(request, form, 422)
    response = RedirectResponse(local_path(form.value("next"), "/account"), status_code=303)
    # A new session id at every login: an id planted before it is never the signed-in one.
    old = session_token(request)
    if old is not None:
        async with context.sessions.begin() as session:
            await end_session(session, old)
    set_session_cookie(response, context, token)
    return response


async def logout(request: Request) -> Response:
    context = context_of(request)
    token = session_token(request)
    if token is not None:
        async with context.sessions.begin() as session:
            await end_session(session, token)
    response = RedirectResponse("/", status_code=303)
    clear_session_cookie(response, context)
    return response


def routes() -> list[BaseRoute]:
    return [
        rule("/login", login_page, Access.PUBLIC, methods=["GET"]),
        rule("/login", login, Access.PUBLIC, methods=["POST"]),
        rule("/logout", logout, Access.MEMBER, methods=["POST"]),
    ]
