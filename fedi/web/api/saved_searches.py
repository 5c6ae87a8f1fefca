"""``/api/v1/saved-searches``: a member's saved partner searches (the parameters of
``GET /api/v1/offers/search``), listed, saved and forgotten."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from fedi.db.models import SavedSearch
from fedi.errors import NotFoundError, ValidationError
from fedi.instance import context_of
from fedi.partners.saved_searches import delete_saved_search, save_search, saved_searches_of
from fedi.partners.search_params import CODE_PARAMETERS
from fedi.web.access import Access, principal_of, rule
from fedi.web.api.body import read_json_object
from fedi.web.api.problems import Problem

__all__ = ["render_saved_search", "routes"]

# What a saved search's body may hold: its name and the search's own parameters.
_FIELDS = frozenset(
    {"name", "q", "sort", "live", "status", "origin", "validated", "deadline_after",
     "deadline_before", *CODE_PARAMETERS}
)  # fmt: skip


def render_saved_search(base_url: str, row: SavedSearch) -> dict[str, Any]:
    query = urlencode([(key, value) for key, values in row.query.items() for value in values])
    return {
        "id": row.id,
        "name": row.name,
        "query": row.query,
        "results": f"{base_url}/api/v1/offers/search" + (f"?{query}" if query else ""),
        "feed": f"{base_url}/feeds/searches/{row.feed_key}.rss",
        "created": row.created_at.isoformat().replace("+00:00", "Z"),
    }


def _params(body: dict[str, Any]) -> dict[str, list[str]]:
    """The search parameters of a JSON body: each a string or a list of strings; ``validated``
    and ``live`` may be booleans."""
    params: dict[str, list[str]] = {}
    for key, value in body.items():
        if key == "name":
            continue
        if isinstance(value, bool) and key in ("validated", "live"):
            params[key] = ["true" if value else "false"]
        elif isinstance(value, str):
            params[key] = [value]
        elif isinstance(value, list) and all(isinstance(item, str) for item in value):
            params[key] = list(value)
        else:
            raise Problem(
                422, f"{key}: must be a string or a list of strings", errors={key: ["bad value"]}
            )
    return params


async def saved_searches(request: Request) -> Response:
    context = context_of(request)
    principal = principal_of(request)
    assert principal is not None
    base = context.settings.base_url
    if request.method == "GET":
        async with context.sessions() as session:
            rows = await saved_searches_of(session, principal.member_id)
        return JSONResponse({"items": [render_saved_search(base, row) for row in rows]})
    body = await read_json_object(request)
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        raise Problem(
            422, f"{unknown[0]}: unknown field", errors={k: ["unknown field"] for k in unknown}
        )
    try:
        async with context.sessions.begin() as session:
            row = await save_search(session, principal.member_id, body.get("name"), _params(body))
            answer = render_saved_search(base, row)
    except ValidationError as error:
        raise Problem(422, str(error)[:600], errors=error.errors) from error
    location = f"{base}/api/v1/saved-searches/{row.id}"
    return JSONResponse(answer, status_code=201, headers={"Location": location})


async def saved_search(request: Request) -> Response:
    context = context_of(request)
    principal = principal_of(request)
    assert principal is not None
    raw = request.path_params["id"]
    if not (raw.isascii() and raw.isdigit()) or int(raw) > 2**31:
        raise Problem(404, "no such saved search")
    try:
        async with context.sessions.begin() as session:
            await delete_saved_search(session, principal.member_id, int(raw))
    except NotFoundError as error:
        raise Problem(404, str(error)) from error
    return Response(status_code=204)


routes = [
    rule("/api/v1/saved-searches", saved_searches, Access.MEMBER, methods=["GET", "POST"]),
    rule("/api/v1/saved-searches/{id}", saved_search, Access.MEMBER, methods=["DELETE"]),
]
