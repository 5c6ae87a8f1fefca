"""Liveness and readiness probes for process managers and load balancers."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from fedi.db.migrate import head_revision
from fedi.instance import context_of

__all__ = ["routes"]


async def healthz(request: Request) -> JSONResponse:
    """The process is up and serving requests; says nothing about the database."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    """200 when the database answers and its schema is at the newest migration, 503 otherwise."""
    context = context_of(request)
    head = head_revision()
    try:
        async with context.engine.connect() as connection:
            current = (
                await connection.execute(text("SELECT version_num FROM alembic_version"))
            ).scalar_one_or_none()
    except SQLAlchemyError as exc:
        reason = str(exc.orig if hasattr(exc, "orig") else exc).splitlines()[0]
        if "alembic_version" in reason:
            reason = "the database has not been migrated; run `fedi migrate`"
        else:
            reason = f"database unreachable: {reason}"
        return JSONResponse({"status": "unavailable", "reason": reason}, status_code=503)
    if current != head:
        return JSONResponse(
            {
                "status": "unavailable",
                "reason": "migrations are not at head; run `fedi migrate`",
                "current": current,
                "head": head,
            },
            status_code=503,
        )
    return JSONResponse({"status": "ok", "migration": current})


routes = [Route("/healthz", healthz), Route("/readyz", readyz)]
