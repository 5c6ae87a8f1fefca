"""Experience pages: the list with its filters, writing and editing with a preview, reading one
in the reader's language, deleting with a confirmation."""

from __future__ import annotations

from starlette.routing import BaseRoute

from fedi.web.experiences import editing, reading

__all__ = ["routes"]


def routes() -> list[BaseRoute]:
    # /experiences/new comes before /experiences/{key}, which would match it too.
    return [*editing.routes(), *reading.routes()]
