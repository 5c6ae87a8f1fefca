"""The one Jinja environment of the pages, with translations wired once.

The i18n extension is installed newstyle with callables that read the request's locale (see
:mod:`fedi.web.ui.i18n`), so the environment is built once per application and never changed
per request. Every template gets, from :func:`_page_context`, the instance's settings, who is
signed in, the form token, the locale and the navigation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from fedi.web.access import Access, principal_of
from fedi.web.ui import i18n

__all__ = ["NavItem", "build_templates", "render"]

# Packages whose ``templates/`` folder holds pages; a capability adds its package here.
TEMPLATE_PACKAGES = (
    "fedi.web.ui",
    "fedi.web.accounts",
    "fedi.web.experiences",
    "fedi.web.offers",
    "fedi.web.notifications",
    "fedi.web.admin",
    "fedi.web.forums",
)


@dataclass(frozen=True)
class NavItem:
    """A link of the main navigation; ``count`` (unread notifications) is shown beside the label
    and read out as ``count_label``."""

    path: str
    label: str
    count: int | None = None
    count_label: str = ""


def _navigation(request: Request) -> list[NavItem]:
    """The main navigation: only pages that exist and that the reader may open."""
    principal = principal_of(request)
    items = [
        NavItem("/", i18n.gettext("Home")),
        NavItem("/new", i18n.gettext("New here")),
        NavItem("/experiences", i18n.gettext("Experiences")),
        NavItem("/forums", i18n.gettext("Forums")),
        NavItem("/experts", i18n.gettext("Experts")),
        NavItem("/offers", i18n.gettext("Partner offers")),
        NavItem("/offers/search", i18n.gettext("Partner search")),
    ]
    if principal is None:
        items.append(NavItem("/login", i18n.gettext("Sign in")))
        return items
    items.append(
        NavItem(
            "/notifications",
            i18n.gettext("Notifications"),
            principal.unread or None,
            i18n.ngettext(
                "%(num)s unread notification", "%(num)s unread notifications", principal.unread
            ),
        )
    )
    items.append(NavItem("/account", i18n.gettext("Account")))
    if principal.level >= Access.MODERATOR:
        items.append(NavItem("/admin/members", i18n.gettext("Administration")))
    return items


def _page_context(request: Request) -> dict[str, Any]:
    locale = i18n.current_locale()
    return {
        "settings": request.app.state.instance.settings,
        "instance_name": request.app.state.instance_name.value,
        "principal": principal_of(request),
        "csrf_token": request.scope.get("state", {}).get("csrf_token", ""),
        "locale": locale,
        "languages": [(code, i18n.language_name(code)) for code in i18n.LOCALES],
        "navigation": _navigation(request),
        "current_path": request.url.path,
        # Where the language switch returns to: this page, with its query (a search's filters).
        "current_target": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        "role_names": {
            "admin": i18n.gettext("administrator"),
            "moderator": i18n.gettext("moderator"),
            "member": i18n.gettext("member"),
        },
    }


def _raw_gettext(message: str) -> str:
    return i18n.gettext(message)


def _raw_ngettext(singular: str, plural: str, n: int) -> str:
    # Jinja fills ``%(num)s`` itself; only the form is chosen here.
    return i18n.choose_plural(singular, plural, n)


def build_templates() -> Jinja2Templates:
    environment = jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [jinja2.PackageLoader(package, "templates") for package in TEMPLATE_PACKAGES]
        ),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
    )
    environment.install_gettext_callables(  # type: ignore[attr-defined]
        _raw_gettext, _raw_ngettext, newstyle=True
    )
    environment.filters["date"] = i18n.format_date
    environment.filters["datetime"] = i18n.format_datetime
    environment.filters["number"] = i18n.format_number
    return Jinja2Templates(env=environment, context_processors=[_page_context])


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """A page from ``template`` in the request's locale."""
    templates: Jinja2Templates = request.app.state.templates
    response: Response = templates.TemplateResponse(
        request, template, context or {}, status_code=status_code, headers=headers
    )
    return response
