"""Liveness and readiness probes for process managers and load balancers."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from fedi.db.migrate import readiness
from fedi.instance import context_of

__all__ = ["routes"]


async def healthz(request: Request) -> JSONResponse:
    """The process is up and serving requests; says nothing about the database."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    """200 when the database answers and its schema is at the newest migration, 503 otherwise."""
    state = await readiness(context_of(request).engine)
    if state.ready:
        return JSONResponse({"status": "ok", "migration": state.current})
    answer: dict[str, str | None] = {"status": "unavailable", "reason": state.reason}
    if state.read:
        answer |= {"current": state.current, "head": state.head}
    return JSONResponse(answer, status_code=503)


routes = [Route("/healthz", healthz), Route("/readyz", readyz)]
