"""The project's exceptions, each caught at a boundary (HTTP, CLI) and turned into an answer."""

from __future__ import annotations

__all__ = ["ConflictError", "FediError", "ForbiddenError", "NotFoundError", "ValidationError"]


class FediError(Exception):
    """Base class; ``str(exc)`` is a one-line reason fit for a user."""


class ValidationError(FediError):
    """Input that breaks a rule (HTTP 400/422, CLI exit 1)."""


class NotFoundError(FediError):
    """The thing named does not exist (HTTP 404)."""


class ConflictError(FediError):
    """The thing exists already, or the change conflicts with the current state (HTTP 409)."""


class ForbiddenError(FediError):
    """The thing exists, but belongs to someone else (HTTP 403)."""
