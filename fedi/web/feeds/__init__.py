"""Atom and RSS 2.0 feeds: the experiences (with the list page's filters), each member's
experiences, everything public on the network, each forum's threads and every forum's, and each
saved partner search (RSS)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from fedi.web.feeds import forums, searches
from fedi.web.feeds import routes as feed_routes

__all__ = ["routes"]


def routes() -> list[BaseRoute]:
    return [*feed_routes.routes(), *forums.routes(), *searches.routes()]
