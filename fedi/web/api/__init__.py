"""The JSON API under ``/api/`` (API.md): one module per noun, every route declared with
:func:`fedi.web.access.rule`, every error a problem document (:mod:`fedi.web.api.problems`).

Handlers read input with :mod:`fedi.web.api.body`, page lists with :mod:`fedi.web.api.paging`
and call the same services as the pages; they never query for what a service owns.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from fedi.web.api import (
    experiences,
    experts,
    forums,
    interest,
    lookup,
    notifications,
    offer_search,
    offers,
    openapi,
    peers,
    people,
    questions,
    reports,
    saved_searches,
    threads,
    vocabularies,
)
from fedi.web.api.problems import exception_handlers

__all__ = ["exception_handlers", "routes"]

routes: list[BaseRoute] = [
    *openapi.routes,
    *vocabularies.routes,
    *people.routes,
    *experts.routes,
    *questions.routes,
    *forums.routes,
    *threads.routes,
    *notifications.routes,
    *reports.routes,
    *peers.routes,
    *lookup.routes,
    *experiences.routes,
    # /api/v1/offers/search before /api/v1/offers/{id}.
    *offer_search.routes,
    *offers.routes,
    *interest.routes,
    *saved_searches.routes,
]
