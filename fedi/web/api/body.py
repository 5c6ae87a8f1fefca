"""Reading an API request's body: JSON, a JSON object, and no larger than the cap."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request

from fedi.web.api.problems import Problem

__all__ = ["MAX_BODY", "read_json_object"]

MAX_BODY = 64 * 1024


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


async def read_json_object(request: Request, *, limit: int = MAX_BODY) -> dict[str, Any]:
    """The body as a JSON object: 415 unless it is JSON, 413 past ``limit`` bytes (declared or
    sent), 400 when it is not well-formed JSON or not an object."""
    media = _media_type(request)
    if media != "application/json" and not (
        media.startswith("application/") and media.endswith("+json")
    ):
        raise Problem(415, "send the body as application/json")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise Problem(413, f"the body is larger than {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise Problem(413, f"the body is larger than {limit} bytes")
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise Problem(400, f"the body is not well-formed JSON ({exc.msg})") from None
    if not isinstance(document, dict):
        raise Problem(400, "the body must be a JSON object")
    return document
