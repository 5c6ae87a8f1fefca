"""The instance's front page: what this network is, its rules, how to follow it, and its forums."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi.instance import context_of
from fedi.services import instance_settings
from fedi.services.forums import forum_handles
from fedi.vocabulary import country_label
from fedi.web.ui.i18n import current_locale
from fedi.web.ui.rendering import render

__all__ = ["routes"]


async def home(request: Request) -> Response:
    context = context_of(request)
    settings = context.settings
    # Two short reads, neither needing a session (fedi.db.hot_reads).
    forums = [(f.uri, f.name, f.slug) for f in await forum_handles(context.hot_reads, settings)]
    instance = await instance_settings.load_now(context.hot_reads, settings)
    return render(
        request,
        "home.html",
        {
            "country": country_label(settings.country, current_locale()),
            "network_url": f"{settings.base_url}/groups/{settings.network_handle}",
            "forums": forums,
            "instance": instance,
        },
    )


routes = [Route("/", home)]
