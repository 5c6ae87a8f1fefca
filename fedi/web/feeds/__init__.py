"""Atom and RSS 2.0 feeds: the experiences (with the list page's filters), each member's
experiences, everything public on the network, and each saved partner search (RSS)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from fedi.web.feeds import routes as feed_routes
from fedi.web.feeds import searches

__all__ = ["routes"]


def routes() -> list[BaseRoute]:
    return [*feed_routes.routes(), *searches.routes()]
