"""``/experiences`` (the list, filtered and paged) and ``/experiences/{key}`` (one experience,
in the reader's language first, with a switch to the other versions; 410 once deleted)."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from fedi.content.experiences.service import (
    ExperienceGone,
    ExperienceView,
    get_experience,
    list_experiences,
)
from fedi.content.markdown import render_markdown
from fedi.errors import NotFoundError
from fedi.instance import context_of
from fedi.web.access import Access, principal_of, rule
from fedi.web.experiences.choices import choices, kind_label
from fedi.web.experiences.filters import read_filters
from fedi.web.ui import i18n
from fedi.web.ui.pages import MAX_ROW_ID, not_found_page
from fedi.web.ui.rendering import render

__all__ = ["KEY", "find_experience", "routes"]

KEY = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
PAGE_SIZE = 20


def _before(request: Request) -> int | None:
    raw = request.query_params.get("before", "")
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < int(raw) <= MAX_ROW_ID else None


async def experience_list(request: Request) -> Response:
    context = context_of(request)
    listed = read_filters(request.query_params)
    async with context.sessions() as session:
        page = await list_experiences(
            session, context.settings, listed.filters, limit=PAGE_SIZE, before=_before(request)
        )
    query = listed.query
    return render(
        request,
        "experiences/list.html",
        {
            "page": page,
            "values": listed.values,
            "filtered": bool(query),
            "query": query,
            "options": choices(),
            "kind_label": kind_label,
            "notice": "deleted" if "deleted" in request.query_params else None,
        },
    )


async def find_experience(request: Request) -> ExperienceView | Response:
    """The experience of the path, or the page that says why there is none (404, 410)."""
    context = context_of(request)
    key = str(request.path_params["key"])
    if not KEY.fullmatch(key):
        return await not_found_page(request, NotFoundError("no such experience"))
    try:
        async with context.sessions() as session:
            return await get_experience(session, context.settings, key)
    except ExperienceGone:
        return render(request, "experiences/gone.html", status_code=410)
    except NotFoundError as error:
        return await not_found_page(request, error)


async def experience_page(request: Request) -> Response:
    found = await find_experience(request)
    if isinstance(found, Response):
        return found
    versions = found.versions
    wanted = request.query_params.get("lang", "")
    locale = i18n.current_locale()
    language = next((code for code in (wanted, locale) if code in versions), found.data.language)
    version = versions[language]
    principal = principal_of(request)
    return render(
        request,
        "experiences/page.html",
        {
            "experience": found,
            "language": language,
            "version": version,
            "body_html": render_markdown(version.body),
            "others": [code for code in versions if code != language],
            "options": choices(),
            "kind_label": kind_label,
            "mine": principal is not None and principal.actor_id == found.author.id,
            "notice": next((k for k in ("saved", "created") if k in request.query_params), None),
        },
    )


def routes() -> list[BaseRoute]:
    return [
        rule("/experiences", experience_list, Access.PUBLIC, methods=["GET"]),
        rule("/experiences/{key}", experience_page, Access.PUBLIC, methods=["GET"]),
    ]
