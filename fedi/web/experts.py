"""``/experts``: the directory of experts, with its filters as a form and each expert's
expertise said in the reader's language."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi.errors import ValidationError
from fedi.instance import context_of
from fedi.services.experts import ExpertFilters, list_experts
from fedi.web.experiences.choices import choices
from fedi.web.ui import i18n
from fedi.web.ui.rendering import render

__all__ = ["FILTERS", "PER_PAGE", "routes"]

FILTERS = ("q", "theme", "objective", "country", "language")
PER_PAGE = 20


def _offset(raw: str | None) -> int:
    if raw is None or not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
        return 0
    return int(raw)


async def experts_page(request: Request) -> Response:
    context = context_of(request)
    values = {name: request.query_params.get(name, "").strip() for name in FILTERS}
    filters = ExpertFilters(
        q=values["q"],
        theme=values["theme"] or None,
        objective=values["objective"] or None,
        country=values["country"] or None,
        language=values["language"] or None,
    )
    offset = _offset(request.query_params.get("start"))
    error = None
    async with context.sessions() as session:
        try:
            page = await list_experts(session, filters, limit=PER_PAGE, offset=offset)
        except ValidationError as exc:
            error = i18n.gettext("Choose the filters from the lists: %(fields)s.") % {
                "fields": ", ".join(exc.errors)
            }
            page = None
    query = {name: value for name, value in values.items() if value}
    next_url = None
    if page is not None and page.next_before is not None:
        next_url = "/experts?" + urlencode(query | {"start": str(page.next_before)})
    return render(
        request,
        "experts.html",
        {
            "page": page,
            "values": values,
            "options": choices(),
            "filtered": bool(query),
            "error": error,
            "next_url": next_url,
        },
        status_code=400 if error else 200,
    )


routes = [Route("/experts", experts_page)]
