"""Authorized fetch: when the instance requires it, AS2 GETs must carry a valid HTTP signature."""

from __future__ import annotations

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from fedi.crypto import Rejected, verify_request
from fedi.db.models import Actor
from fedi.federation.blocks import domain_blocked
from fedi.federation.remote import ActorKeyResolver
from fedi.instance import context_of
from fedi.net.client import FetchBudget
from fedi.net.errors import BadUrl
from fedi.net.urls import host_of

__all__ = ["require_signature"]


async def require_signature(request: Request) -> Response | None:
    """``None`` when the request may proceed; otherwise the answer: 401 when a signature is
    required and absent or invalid, 403 when the signer's domain is suspended or the signer is
    suspended or deleted (rule 22). Without ``FEDI_AUTHORIZED_FETCH`` every GET may proceed.

    A key fetched to verify is kept only once the signature has verified, as in the inbox.
    """
    context = context_of(request)
    if not context.settings.authorized_fetch:
        return None
    async with context.sessions() as session:
        resolver = ActorKeyResolver(context, session, budget=FetchBudget())
        result = await verify_request(
            request.method,
            str(
                request.url.replace(scheme=context.settings.scheme, netloc=context.settings.domain)
            ),
            request.headers,
            b"",
            resolve_key=resolver,
            now=context.clock(),
            expected_host=context.settings.domain,
        )
        if isinstance(result, Rejected):
            return JSONResponse(
                {"error": f"this server requires signed requests: {result.reason}"},
                status_code=401,
                headers={"WWW-Authenticate": 'Signature realm="fedi"'},
            )
        owner = resolver.actor or await session.scalar(
            select(Actor).where(Actor.uri == result.owner)
        )
        try:
            blocked = await domain_blocked(session, host_of(result.owner))
        except BadUrl:
            blocked = True
        if blocked or owner is None or owner.suspended_at or owner.deleted_at:
            return JSONResponse({"error": "the signer is blocked or suspended"}, status_code=403)
        await session.commit()
    return None
