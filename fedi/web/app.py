"""The application factory: everything an instance needs is built here, nothing at import time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from fedi.errors import FediError, NotFoundError
from fedi.federation.acceptance import Policy
from fedi.federation.conditions import INBOX_POLICY
from fedi.federation.worker import Worker
from fedi.instance import InstanceContext, build_context
from fedi.settings import Settings
from fedi.web import (
    accounts,
    actors,
    admin,
    api,
    c2s,
    catalogue,
    discovery,
    experiences,
    experts,
    feeds,
    forums,
    health,
    home,
    inbox,
    media,
    newcomers,
    notifications,
    objects,
    offer_queries,
    offers,
    questions,
    schemas_routes,
)
from fedi.web.access import AccessDenied, AuthenticationMiddleware, bearer_token, public
from fedi.web.accounts.cookies import SESSION_COOKIE, browser_session
from fedi.web.api import problems
from fedi.web.api.problems import is_api, problem_response
from fedi.web.csrf import CSRFMiddleware
from fedi.web.middleware import RequestLogMiddleware, SecurityHeadersMiddleware, proxy_headers
from fedi.web.redirects import SlashRedirect
from fedi.web.ui import i18n, pages
from fedi.web.ui.naming import InstanceName
from fedi.web.ui.rendering import build_templates

__all__ = ["create_app"]

_log = logging.getLogger("fedi.job")


STATIC_DIR = Path(__file__).parent / "ui" / "static"

ExceptionHandler = Callable[[Request, Exception], Awaitable[Response]]


async def _access_denied(request: Request, exc: Exception) -> Response:
    """A refused route: a problem document under ``/api/`` (RFC 9457); elsewhere the sign-in
    page (coming back here afterwards) for nobody signed in, and the 403 page for a member."""
    assert isinstance(exc, AccessDenied)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    if is_api(request):
        return problem_response(exc.status, str(exc), headers=headers)
    if exc.status == 401:
        if request.method != "GET":  # a form posted after its session ended
            return RedirectResponse("/login", status_code=303)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    return pages.forbidden_page(request)


async def _csrf_refused(request: Request, reason: str) -> Response:
    if is_api(request):
        return problem_response(403, reason)
    return pages.forbidden_page(
        request,
        i18n.gettext(
            "The form could not be sent because it was out of date. "
            "Go back, reload the page and try again."
        ),
    )


def _api_or_page(api_handler: ExceptionHandler, page_handler: ExceptionHandler) -> ExceptionHandler:
    """One handler for an exception: a problem document under ``/api/``, a page elsewhere."""

    async def handle(request: Request, exc: Exception) -> Response:
        return await (api_handler if is_api(request) else page_handler)(request, exc)

    return handle


async def _refusal_page(request: Request, exc: Exception) -> Response:
    """A service's refusal reaching a page: the 404 page for a thing that does not exist."""
    if isinstance(exc, NotFoundError):
        return await pages.not_found_page(request, exc)
    return await problems.fedi_error(request, exc)


async def _stop_worker(task: asyncio.Task[None], grace: float = 10.0) -> None:
    """Let the worker finish what is in flight for ``grace`` seconds, then cancel it: leased
    deliveries are sent again by the next worker, so nothing is lost either way."""
    done, _ = await asyncio.wait({task}, timeout=grace)
    if not done:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    elif not task.cancelled() and task.exception() is not None:
        _log.error("worker stopped with an error", exc_info=task.exception())


def create_app(
    settings: Settings,
    *,
    context: InstanceContext | None = None,
    run_worker: bool = False,
    inbox_policy: Policy = INBOX_POLICY,
) -> Starlette:
    """Build one instance's ASGI application from its settings.

    Engines, sessions and the HTTP client belong to the returned app alone, so that several
    instances with different settings can live in one process (the federation tests do exactly
    that). With ``run_worker`` the app also works its inbox and deliveries in the background.
    ``inbox_policy`` judges every POST to every inbox (docs/development.md, "The inbox").
    """
    instance = context or build_context(settings)
    catalogs = i18n.load_catalogs()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await app.state.instance_name.refresh(instance)
        stop = asyncio.Event()
        task = asyncio.create_task(Worker(instance).run(stop)) if run_worker else None
        try:
            yield
        finally:
            try:
                stop.set()
                if task is not None:
                    await _stop_worker(task)
            finally:
                await instance.aclose()

    app = Starlette(
        # The inboxes first: the busiest routes, matched before the others are tried (their
        # paths and methods are their own, so the order changes no answer).
        routes=[
            *public(inbox.routes),
            *public(health.routes),
            *public(home.routes),
            *public(newcomers.routes),
            *public(experts.routes),
            *public(discovery.routes),
            *public(c2s.routes),
            *public(offer_queries.routes),
            *public(actors.routes),
            *public(catalogue.routes),
            *public(objects.routes),
            *public(schemas_routes.routes),
            *pages.routes(),
            *accounts.routes(),
            *experiences.routes(),
            *feeds.routes(),
            *offers.routes(),
            *questions.routes(),
            *media.routes(),
            *notifications.routes(),
            *admin.routes(),
            *forums.routes(),
            Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
            *api.routes,
        ],
        middleware=[
            Middleware(
                RequestLogMiddleware,
                instance=settings.domain,
                trusted_proxies=settings.trusted_proxies,
            ),
            *(
                [Middleware(proxy_headers, trusted_proxies=settings.trusted_proxies)]
                if settings.trusted_proxies
                else []
            ),
            Middleware(SecurityHeadersMiddleware),
            Middleware(i18n.LocaleMiddleware, catalogs=catalogs),
            Middleware(AuthenticationMiddleware, authenticators=[bearer_token, browser_session]),
            Middleware(
                CSRFMiddleware,
                session_cookie=SESSION_COOKIE,
                secure=settings.scheme == "https",
                refuse=_csrf_refused,
                exempt=inbox.routes,
            ),
        ],
        exception_handlers={
            **api.exception_handlers(),
            AccessDenied: _access_denied,
            FediError: _api_or_page(problems.fedi_error, _refusal_page),
            404: _api_or_page(problems.http_exception, pages.not_found_page),
            Exception: _api_or_page(problems.server_error, pages.server_error_page),
        },
        lifespan=lifespan,
    )
    # Trailing-slash redirects on FEDI_BASE_URL (Starlette's own follow the Host header).
    app.router.redirect_slashes = False
    app.router.default = SlashRedirect(app.router.routes, settings.base_url, app.router.default)
    app.state.instance = instance
    app.state.inbox_policy = inbox_policy
    app.state.catalogs = catalogs
    app.state.templates = build_templates()
    app.state.instance_name = InstanceName(settings.instance_name)
    return app
