"""``/new``: the "new here" page, which leads someone starting an ESF+ project to the resources
(guides, templates, checklists), the experiences of others, partner search and the forums."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi.content.experiences.service import ExperienceFilters, list_experiences
from fedi.instance import context_of
from fedi.services.forums import list_forums
from fedi.vocabulary import country_label
from fedi.web.ui.i18n import current_locale
from fedi.web.ui.rendering import render

__all__ = ["RESOURCES_SHOWN", "routes"]

# The newest resources listed on the page; the rest are a link away.
RESOURCES_SHOWN = 5


async def newcomers(request: Request) -> Response:
    context = context_of(request)
    settings = context.settings
    async with context.sessions() as session:
        resources = await list_experiences(
            session, settings, ExperienceFilters(kind="resource"), limit=RESOURCES_SHOWN
        )
        forums = [(f.uri, f.display_name, f.username) for f in await list_forums(session, settings)]
    locale = current_locale()
    shown = []
    for view in resources.rows:
        version = view.versions.get(locale, view.data.original)
        shown.append((view.url, version.title, version.summary))
    return render(
        request,
        "new.html",
        {
            "resources": shown,
            "resource_total": resources.total,
            "forums": forums,
            "country": country_label(settings.country, locale),
        },
    )


routes = [Route("/new", newcomers)]
