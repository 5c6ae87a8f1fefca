"""The web layer: HTTP routes, middleware and the application factory."""

from fedi.web.app import create_app

__all__ = ["create_app"]
