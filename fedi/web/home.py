"""The instance's front page: what this network is and how to follow it."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi.instance import context_of
from fedi.vocabulary import country_label

__all__ = ["routes"]


async def home(request: Request) -> Response:
    settings = context_of(request).settings
    response: Response = request.app.state.templates.TemplateResponse(
        request,
        "home.html",
        {
            "settings": settings,
            "country": country_label(settings.country),
            "network_url": f"{settings.base_url}/groups/{settings.network_handle}",
        },
    )
    return response


routes = [Route("/", home)]
