"""``GET /groups/{network}/offers/search``: the partner query endpoint other instances of ours
ask during a live search (docs/federation.md, "Live partner search").

It takes the parameters of ``GET /api/v1/offers/search`` and answers an ``OrderedCollection``
of the matching offers' ``Page`` documents (each the document its id serves), ranked as the
local search ranks them: this instance's own offers only, never its replicas of others', so
that answers never echo. Every request must carry a valid HTTP signature, whatever
``FEDI_AUTHORIZED_FETCH`` says.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fedi.db.models import utcnow
from fedi.errors import ValidationError
from fedi.instance import context_of
from fedi.partners.document import offer_context
from fedi.partners.search import Reader, search_offers
from fedi.partners.search_params import read_search
from fedi.web.actors import activity_json
from fedi.web.addressed import addressed_url
from fedi.web.api.paging import DEFAULT_LIMIT, MAX_LIMIT
from fedi.web.signed_fetch import require_signature

__all__ = ["routes"]


def _limit(raw: str | None) -> int | None:
    if raw is None:
        return DEFAULT_LIMIT
    if raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_LIMIT:
        return int(raw)
    return None


def _refusal(errors: dict[str, list[str]]) -> Response:
    first, messages = next(iter(errors.items()))
    return JSONResponse({"error": f"{first}: {messages[0]}"[:600], "errors": errors}, 422)


async def offer_query(request: Request) -> Response:
    context = context_of(request)
    settings = context.settings
    if request.path_params["network"] != settings.network_handle:
        return JSONResponse({"error": "no such group"}, 404)
    refusal = await require_signature(request, always=True)
    if refusal is not None:
        return refusal
    params = {key: request.query_params.getlist(key) for key in request.query_params}
    limit = _limit(request.query_params.get("limit"))
    if limit is None:
        return _refusal({"limit": [f"must be a whole number from 1 to {MAX_LIMIT}"]})
    try:
        wanted = read_search(params)
    except ValidationError as error:
        return _refusal(error.errors)
    async with context.sessions() as session:
        found = await search_offers(
            session,
            q=wanted.q,
            filters=wanted.filters,
            reader=Reader(),
            today=utcnow().date(),
            sort=wanted.sort,
            bounds=wanted.bounds,
            limit=limit,
            local_only=True,
        )
    items: list[dict[str, Any]] = [
        {key: value for key, value in hit.view.row.document.items() if key != "@context"}
        for hit in found.hits
    ]
    return activity_json(
        {
            "@context": offer_context(),
            "id": addressed_url(request.scope, settings.base_url),
            "type": "OrderedCollection",
            "totalItems": found.total,
            "orderedItems": items,
        }
    )


routes = [Route("/groups/{network}/offers/search", offer_query, methods=["GET"])]
