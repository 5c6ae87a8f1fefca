"""The application factory: everything an instance needs is built here, nothing at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware

from fedi.db.engine import make_async_engine, make_sessionmaker
from fedi.settings import Settings
from fedi.web import health
from fedi.web.context import InstanceContext
from fedi.web.middleware import RequestLogMiddleware

__all__ = ["create_app"]


def create_app(settings: Settings) -> Starlette:
    """Build one instance's ASGI application from its settings.

    Engines and sessions belong to the returned app alone, so that several instances with different
    settings can live in one process (the federation tests do exactly that).
    """
    engine = make_async_engine(settings.database_url)
    context = InstanceContext(settings=settings, engine=engine, sessions=make_sessionmaker(engine))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await engine.dispose()

    app = Starlette(
        routes=[*health.routes],
        middleware=[Middleware(RequestLogMiddleware, instance=settings.domain)],
        lifespan=lifespan,
    )
    app.state.instance = context
    return app
