"""``GET /api/openapi.json``: the OpenAPI 3.1 document of the API (``schemas/openapi.json``)."""

from __future__ import annotations

from functools import cache

from starlette.requests import Request
from starlette.responses import Response

from fedi.resources import schemas_dir
from fedi.web.access import Access, rule

__all__ = ["openapi_text", "routes"]


@cache
def openapi_text() -> str:
    return (schemas_dir() / "openapi.json").read_text(encoding="utf-8")


async def openapi_document(request: Request) -> Response:
    return Response(
        openapi_text(),
        media_type="application/json",
        headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=3600"},
    )


routes = [rule("/api/openapi.json", openapi_document, Access.PUBLIC, methods=["GET"])]
