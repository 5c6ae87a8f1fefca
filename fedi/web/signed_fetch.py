"""Authorized fetch: when the instance requires it, AS2 GETs must carry a valid HTTP signature.

The request is judged by the signer's conditions of the inbox's own policy
(:data:`fedi.federation.conditions.SIGNED_GET_POLICY`: the signature, the signer's domain, the
signer's suspension), on the URL rebuilt as the inbox rebuilds it.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from fedi.actors.remote import ActorDocumentError
from fedi.federation.acceptance import Incoming
from fedi.federation.conditions import SIGNED_GET_POLICY
from fedi.federation.inbox_store import keep_fetched_signer
from fedi.instance import context_of
from fedi.web.addressed import addressed_url

__all__ = ["require_signature"]


async def require_signature(request: Request, *, always: bool = False) -> Response | None:
    """``None`` when the request may proceed; otherwise the answer: 401 when a signature is
    required and absent or invalid, 403 when the signer's domain is suspended or the signer is
    suspended or deleted (rule 22), 503 while key fetches are saturated. Without
    ``FEDI_AUTHORIZED_FETCH`` every GET may proceed, unless ``always`` (endpoints that answer
    only other servers, such as the partner query) requires the signature whatever the setting.

    A key fetched to verify is kept only once every condition has passed, as in the inbox.
    """
    context = context_of(request)
    if not (always or context.settings.authorized_fetch):
        return None
    incoming = Incoming(
        ctx=context,
        method=request.method,
        url=addressed_url(request.scope, context.settings.base_url),
        headers=request.headers,
        body=b"",
    )
    verdict = await SIGNED_GET_POLICY.evaluate(incoming)
    if verdict is not None:
        reason = verdict.reason
        if verdict.status == 401:
            reason = f"this server requires signed requests: {reason}"
        return JSONResponse({"error": reason}, verdict.status, headers=dict(verdict.headers))
    try:
        await keep_fetched_signer(incoming)
    except ActorDocumentError as exc:
        return JSONResponse({"error": f"the signer cannot be kept: {exc}"}, 401)
    return None
