"""``GET /api/v1/experts``: the directory of experts across instances, filtered by ``q``,
``theme``, ``objective``, ``country`` and ``language`` (codes of the vocabularies)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from fedi.instance import context_of
from fedi.services.experts import Expert, ExpertFilters, list_experts
from fedi.web.access import Access, rule
from fedi.web.api.paging import page_of, page_request

__all__ = ["expert_filters", "render_expert", "routes"]


def expert_filters(request: Request) -> ExpertFilters:
    """The filters of the query string, unchecked (the service checks them)."""
    params = request.query_params
    return ExpertFilters(
        q=params.get("q", ""),
        theme=params.get("theme") or None,
        objective=params.get("objective") or None,
        country=params.get("country") or None,
        language=params.get("language") or None,
    )


def render_expert(expert: Expert) -> dict[str, Any]:
    """An expert as the API names it: who, where from, and the profile's codes."""
    actor, profile = expert.actor, expert.profile
    return {
        "id": actor.uri,
        "url": expert.url,
        "handle": expert.handle,
        "name": expert.name,
        "origin": actor.domain,
        "local": actor.local,
        "organisation": profile.organisation,
        "organisation_type": profile.organisation_type,
        "country": profile.country,
        "languages": list(profile.languages),
        "expertise": {"themes": list(profile.themes), "objectives": list(profile.objectives)},
    }


async def experts(request: Request) -> Response:
    context = context_of(request)
    page = page_request(request)
    filters = expert_filters(request)
    async with context.sessions() as session:
        found = await list_experts(session, filters, limit=page.limit, offset=page.before or 0)
    listed = page_of(request, context.settings.base_url, page, found)
    return JSONResponse(listed.answer([render_expert(expert) for expert in listed.rows]))


routes = [rule("/api/v1/experts", experts, Access.PUBLIC)]
