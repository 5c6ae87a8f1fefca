"""``GET /groups/{network}/offers``: the network's offers for peer instances, an
``OrderedCollection`` whose pages embed each offer's ``Page`` (:mod:`fedi.partners.catalogue`).

Only signed requests are answered (401 otherwise), whatever ``FEDI_AUTHORIZED_FETCH`` says:
peers read it with their instance actor's signature, and the signer is judged as the inbox
judges it. ``?page=true`` is the first page; ``?after=N`` the page after row id ``N``.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fedi.federation.vocab import AS2_CONTEXT
from fedi.instance import context_of
from fedi.partners.catalogue import catalogue_page, catalogue_size
from fedi.partners.document import offer_context
from fedi.web.actors import activity_json
from fedi.web.signed_fetch import require_signature

__all__ = ["PAGE_SIZE", "routes"]

PAGE_SIZE = 50


def _problem(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def network_offers(request: Request) -> Response:
    context = context_of(request)
    settings = context.settings
    if str(request.path_params["name"]).lower() != settings.network_handle:
        return _problem(404, "only the network group lists offers")
    refusal = await require_signature(request, always=True)
    if refusal is not None:
        return refusal
    collection_id = f"{settings.base_url}/groups/{settings.network_handle}/offers"
    after_param = request.query_params.get("after")
    first = request.query_params.get("page") is not None
    if after_param is not None and (not after_param.isdigit() or len(after_param) > 18):
        return _problem(400, "after must be a row id (a whole number)")
    async with context.sessions() as session:
        if after_param is None and not first:
            total = await catalogue_size(session)
            return activity_json(
                {
                    "@context": AS2_CONTEXT,
                    "id": collection_id,
                    "type": "OrderedCollection",
                    "totalItems": total,
                    "first": f"{collection_id}?page=true",
                }
            )
        after = int(after_param or 0)
        page = await catalogue_page(session, after=after, limit=PAGE_SIZE)
    query = "page=true" if after_param is None else f"after={after}"
    page_id = f"{collection_id}?{query}"
    document = {
        "@context": offer_context(),
        "id": page_id,
        "type": "OrderedCollectionPage",
        "partOf": collection_id,
        "orderedItems": page.items,
    }
    if page.next_after is not None:
        document["next"] = f"{collection_id}?after={page.next_after}"
    return activity_json(document)


routes = [Route("/groups/{name}/offers", network_offers, methods=["GET"])]
