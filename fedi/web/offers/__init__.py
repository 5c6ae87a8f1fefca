"""Partner offer pages: the published offers, writing one (a draft or published at once), its
page with the author's status buttons, and editing it."""

from __future__ import annotations

from starlette.routing import BaseRoute

from fedi.web.offers import editing, interest, reading, saved, searching

__all__ = ["routes"]


def routes() -> list[BaseRoute]:
    # /offers/new, /offers/search and /offers/saved come before /offers/{id}.
    return [
        *editing.routes(),
        *searching.routes(),
        *saved.routes(),
        *interest.routes(),
        *reading.routes(),
    ]
