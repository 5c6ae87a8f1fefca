"""The application factory: everything an instance needs is built here, nothing at import time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import jinja2
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.templating import Jinja2Templates

from fedi.federation.worker import Worker
from fedi.instance import InstanceContext, build_context
from fedi.settings import Settings
from fedi.web import actors, api, c2s, discovery, health, home, inbox, objects, schemas_routes
from fedi.web.access import AccessDenied, AuthenticationMiddleware, bearer_token, public
from fedi.web.api.problems import is_api, problem_response
from fedi.web.inbox_lane import LaneApp
from fedi.web.middleware import RequestLogMiddleware

__all__ = ["create_app"]

_log = logging.getLogger("fedi.job")


def _templates() -> Jinja2Templates:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("fedi.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    return Jinja2Templates(env=environment)


async def _access_denied(request: Request, exc: Exception) -> Response:
    """A refused route: a problem document under ``/api/`` (RFC 9457), a short page elsewhere."""
    assert isinstance(exc, AccessDenied)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    if is_api(request):
        return problem_response(exc.status, str(exc), headers=headers)
    return PlainTextResponse(str(exc), status_code=exc.status, headers=headers)


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
    settings: Settings, *, context: InstanceContext | None = None, run_worker: bool = False
) -> Starlette:
    """Build one instance's ASGI application from its settings.

    Engines, sessions and the HTTP client belong to the returned app alone, so that several
    instances with different settings can live in one process (the federation tests do exactly
    that). With ``run_worker`` the app also works its inbox and deliveries in the background.
    """
    instance = context or build_context(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
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

    app = LaneApp(
        lane_context=instance,
        routes=[
            *public(health.routes),
            *public(home.routes),
            *public(discovery.routes),
            *public(inbox.routes),
            *public(c2s.routes),
            *public(actors.routes),
            *public(objects.routes),
            *public(schemas_routes.routes),
            *api.routes,
        ],
        middleware=[
            Middleware(RequestLogMiddleware, instance=settings.domain),
            Middleware(AuthenticationMiddleware, authenticators=[bearer_token]),
        ],
        exception_handlers={**api.exception_handlers(), AccessDenied: _access_denied},
        lifespan=lifespan,
    )
    app.state.instance = instance
    app.state.templates = _templates()
    return app
