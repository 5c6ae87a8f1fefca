"""The administration section: the pages moderators and admins keep the network with."""

from __future__ import annotations

from starlette.routing import BaseRoute

from fedi.web.admin import domains, members, peers, reports, settings

__all__ = ["routes"]


def routes() -> list[BaseRoute]:
    return [
        *members.routes(),
        *reports.routes(),
        *domains.routes(),
        *peers.routes(),
        *settings.routes(),
    ]
