"""``GET /schemas/activitypub/{name}.schema.json``: the JSON Schemas of what we emit.

Only the published names (``fedi.schemas.SCHEMA_NAMES``) are served; anything else is a 404, so
no request can name a file outside ``schemas/activitypub/``.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fedi.schemas import SCHEMA_MEDIA_TYPE, UnknownSchemaError, schema_text

__all__ = ["routes"]

_SUFFIX = ".schema.json"
_HEADERS = {"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=3600"}


async def schema(request: Request) -> Response:
    filename = str(request.path_params["filename"])
    name = filename.removesuffix(_SUFFIX)
    if name == filename:
        return JSONResponse({"error": "no such schema"}, status_code=404)
    try:
        text = schema_text(name)
    except UnknownSchemaError:
        return JSONResponse({"error": "no such schema"}, status_code=404)
    return Response(text, media_type=SCHEMA_MEDIA_TYPE, headers=_HEADERS)


routes = [Route("/schemas/activitypub/{filename}", schema, methods=["GET", "HEAD"])]
