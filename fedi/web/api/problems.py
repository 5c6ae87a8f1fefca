"""RFC 9457 problem details: every error under ``/api/`` is answered here, in one format.

``{"status", "title", "detail"}`` as ``application/problem+json``, with ``errors``
(``{"field.path": ["message", ...]}``) for invalid input (422) and ``Retry-After`` for 429.
Handlers raise :class:`Problem` or a :class:`fedi.errors.FediError`; the handlers below turn
them into answers. Paths outside ``/api/`` keep plain answers. A 5xx is bare: no detail leaves
the server (the server logs the exception).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from fedi.errors import (
    ConflictError,
    FediError,
    ForbiddenError,
    NotFoundError,
    RateLimitedError,
    ValidationError,
)

__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "Problem",
    "exception_handlers",
    "fedi_error",
    "http_exception",
    "is_api",
    "problem_response",
    "server_error",
]

PROBLEM_MEDIA_TYPE = "application/problem+json"

# RFC 9110's names, which Python's HTTPStatus phrases follow only from 3.13 on.
_TITLES = {413: "Content Too Large", 422: "Unprocessable Content"}


class Problem(Exception):
    """An API answer other than success: raise it from a handler."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        errors: Mapping[str, Sequence[str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = {name: list(messages) for name, messages in (errors or {}).items()}
        self.headers = dict(headers or {})


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def problem_response(
    status: int,
    detail: str | None = None,
    *,
    errors: Mapping[str, Sequence[str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "status": status,
        "title": _TITLES.get(status, HTTPStatus(status).phrase),
    }
    if detail is not None:
        body["detail"] = detail
    if errors:
        body["errors"] = {name: list(messages) for name, messages in errors.items()}
    return JSONResponse(
        body, status_code=status, headers=dict(headers or {}), media_type=PROBLEM_MEDIA_TYPE
    )


def problem_of(exc: FediError) -> Problem:
    """The answer a service's refusal gets."""
    if isinstance(exc, ValidationError):
        errors = exc.errors or {"": [str(exc)]}
        return Problem(422, str(exc), errors=errors)
    if isinstance(exc, NotFoundError):
        return Problem(404, str(exc))
    if isinstance(exc, ForbiddenError):
        return Problem(403, str(exc))
    if isinstance(exc, ConflictError):
        return Problem(409, str(exc))
    if isinstance(exc, RateLimitedError):
        return Problem(429, str(exc), headers={"Retry-After": str(exc.retry_after)})
    return Problem(400, str(exc))


async def _problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    if not is_api(request):
        return PlainTextResponse(exc.detail, status_code=exc.status, headers=exc.headers)
    return problem_response(exc.status, exc.detail, errors=exc.errors, headers=exc.headers)


async def fedi_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, FediError)
    return await _problem(request, problem_of(exc))


async def http_exception(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals: no such route (404), a method it does not allow (405)."""
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    if not is_api(request):
        if exc.status_code in (204, 304):
            return Response(status_code=exc.status_code, headers=headers)
        return PlainTextResponse(exc.detail, status_code=exc.status_code, headers=headers)
    detail = {404: "no such API route", 405: "this route does not take that method"}.get(
        exc.status_code, exc.detail
    )
    return problem_response(exc.status_code, detail, headers=headers)


async def server_error(request: Request, exc: Exception) -> Response:
    """Bare on purpose: the exception is logged by the server, never shown to the client."""
    if not is_api(request):
        return PlainTextResponse("Internal Server Error", status_code=500)
    return problem_response(500)


def exception_handlers() -> dict[Any, Any]:
    return {
        Problem: _problem,
        FediError: fedi_error,
        HTTPException: http_exception,
        Exception: server_error,
    }
