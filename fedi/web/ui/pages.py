"""Pages every capability shares: the language switch and the error pages (403, 404, 429, 500)."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from fedi.instance import context_of
from fedi.services.members import set_locale
from fedi.web.access import Access, principal_of, rule
from fedi.web.csrf import cookie_header
from fedi.web.ui import i18n
from fedi.web.ui.forms import read_form
from fedi.web.ui.rendering import render

__all__ = [
    "MAX_ROW_ID",
    "error_page",
    "forbidden_page",
    "local_path",
    "not_found_page",
    "routes",
    "server_error_page",
    "too_many_page",
]

LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
# The largest row id a path may name: larger numbers are "not found" rather than an integer the
# database refuses to compare.
MAX_ROW_ID = 2**31 - 1


def local_path(target: str, default: str = "/") -> str:
    """``target`` when it is a path on this site (``/...``, not ``//host``), else ``default``:
    where a form may send the reader back to without becoming an open redirect."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target:
        return default
    return target


async def switch_language(request: Request) -> Response:
    """Remember the chosen language in a cookie (and, for a signed-in member, in their
    account, for their e-mails) and go back to the page it was chosen on."""
    form = await read_form(request, "language", "next")
    language = form.value("language")
    response = RedirectResponse(local_path(form.value("next")), status_code=303)
    if language in i18n.LOCALES:
        principal = principal_of(request)
        if principal is not None:
            context = context_of(request)
            async with context.sessions.begin() as session:
                await set_locale(session, principal.member_id, language)
        secure = request.app.state.instance.settings.scheme == "https"
        response.headers.append(
            "set-cookie",
            cookie_header(
                i18n.LANGUAGE_COOKIE, language, secure=secure, max_age=LANGUAGE_COOKIE_AGE
            ),
        )
    return response


def error_page(
    request: Request,
    status: int,
    title: str,
    message: str,
    *,
    headers: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        "error.html",
        {"status": status, "title": title, "message": message},
        status_code=status,
        headers=headers,
    )


def forbidden_page(request: Request, message: str | None = None) -> Response:
    return error_page(
        request,
        403,
        i18n.gettext("You cannot open this page"),
        message or i18n.gettext("Your role on this network does not allow it."),
    )


def too_many_page(request: Request, retry_after: int) -> Response:
    minutes = max(1, -(-retry_after // 60))
    return error_page(
        request,
        429,
        i18n.gettext("Too many attempts"),
        i18n.ngettext(
            "Too many sign-in attempts failed. Try again in %(num)s minute.",
            "Too many sign-in attempts failed. Try again in %(num)s minutes.",
            minutes,
        ),
        headers={"Retry-After": str(retry_after)},
    )


async def not_found_page(request: Request, exc: Exception) -> Response:
    """An unknown path, or a thing a page names that does not exist, as a page (under
    ``/api/``, ``create_app`` answers a problem document instead: see ``_api_or_page``)."""
    return error_page(
        request,
        404,
        i18n.gettext("Page not found"),
        i18n.gettext("There is no page at this address. Check it, or start from the home page."),
    )


async def server_error_page(request: Request, exc: Exception) -> Response:
    """The page shown when something broke on our side (logged where it happened); under
    ``/api/`` the application answers a problem document instead."""
    catalogs: i18n.Catalogs = request.app.state.catalogs
    token = i18n.use_locale(i18n.negotiate(request), catalogs)
    try:
        return error_page(
            request,
            500,
            i18n.gettext("Something went wrong"),
            i18n.gettext(
                "The page could not be shown because of a fault on this server. "
                "Try again in a moment; if it keeps happening, tell the network's administrators."
            ),
        )
    finally:
        i18n.reset_locale(token)


def routes() -> list[BaseRoute]:
    return [rule("/language", switch_language, Access.PUBLIC, methods=["POST"])]
