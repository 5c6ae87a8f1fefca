"""The project's exceptions, each caught at a boundary (HTTP, CLI) and turned into an answer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = [
    "ConflictError",
    "FediError",
    "ForbiddenError",
    "NotFoundError",
    "RateLimitedError",
    "ValidationError",
]


class FediError(Exception):
    """Base class; ``str(exc)`` is a one-line reason fit for a user."""


class ValidationError(FediError):
    """Input that breaks a rule (HTTP 400/422, CLI exit 1).

    ``field`` names the input at fault (a dotted path such as ``expertise.themes``) when there is
    one; ``errors`` gives every field at fault with its messages, for answers that list them all
    (the API's 422 ``errors`` member).
    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        errors: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.field = field
        found = {name: list(messages) for name, messages in (errors or {}).items()}
        if field is not None:
            found.setdefault(field, []).append(message)
        self.errors: dict[str, list[str]] = found


class NotFoundError(FediError):
    """The thing named does not exist (HTTP 404)."""


class ConflictError(FediError):
    """The thing exists already, or the change conflicts with the current state (HTTP 409)."""


class ForbiddenError(FediError):
    """The thing exists, but belongs to someone else (HTTP 403)."""


class RateLimitedError(FediError):
    """Too many attempts; try again after ``retry_after`` seconds (HTTP 429 with Retry-After)."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
