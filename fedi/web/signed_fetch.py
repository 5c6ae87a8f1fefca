"""Authorized fetch: when the instance requires it, AS2 GETs must carry a valid HTTP signature."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from fedi.crypto import Rejected, verify_request
from fedi.federation.remote import key_resolver
from fedi.instance import context_of

__all__ = ["require_signature"]


async def require_signature(request: Request) -> Response | None:
    """``None`` when the request may proceed; a 401 answer when a signature is required and absent
    or invalid. Without ``FEDI_AUTHORIZED_FETCH`` every GET may proceed."""
    context = context_of(request)
    if not context.settings.authorized_fetch:
        return None
    result = await verify_request(
        request.method,
        str(request.url.replace(scheme=context.settings.scheme, netloc=context.settings.domain)),
        request.headers,
        b"",
        resolve_key=key_resolver(context),
        now=context.clock(),
        expected_host=context.settings.domain,
    )
    if isinstance(result, Rejected):
        return JSONResponse(
            {"error": f"this server requires signed requests: {result.reason}"},
            status_code=401,
            headers={"WWW-Authenticate": 'Signature realm="fedi"'},
        )
    return None
