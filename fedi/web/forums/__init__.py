"""Forum pages: the forums, their threads and replies (``/forums``, ``/threads``), what moderators
and authors do to them (``moderation.py``), and the admins' forum management (``/admin/forums``)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from fedi.web.forums import admin, moderation, threads

__all__ = ["routes"]


def routes() -> list[BaseRoute]:
    return [*admin.routes(), *threads.routes(), *moderation.routes()]
