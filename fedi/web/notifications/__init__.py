"""The notifications page: what a member should know of, newest first, marked read one by one or
all at once."""

from __future__ import annotations

from starlette.routing import BaseRoute

from fedi.web.notifications import page

__all__ = ["routes"]


def routes() -> list[BaseRoute]:
    return page.routes()
