"""Forum pages: the forums, their threads and replies (``/forums``, ``/threads``), and the
admins' forum management (``/admin/forums``)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from fedi.web.forums import admin, threads

__all__ = ["routes"]


def routes() -> list[BaseRoute]:
    return [*admin.routes(), *threads.routes()]
