"""Errors raised by the outgoing HTTP client (SECURITY.md rules 26-32).

Every refusal is a :class:`FetchError` carrying a short machine-friendly ``reason``; callers catch
``FetchError`` at their boundary (STYLE.md 10) and may branch on the subclass.
"""

from __future__ import annotations

__all__ = [
    "BadContentType",
    "BadDocument",
    "BadUrl",
    "BlockedAddress",
    "BudgetExhausted",
    "FetchError",
    "FetchTimeout",
    "HttpStatusError",
    "IdMismatch",
    "NetworkError",
    "RedirectLoop",
    "TooLarge",
    "TooManyRedirects",
]


class FetchError(Exception):
    """An outgoing request was refused or failed; ``reason`` says why in a few words."""

    default_reason = "fetch failed"

    def __init__(self, reason: str | None = None) -> None:
        self.reason = reason if reason is not None else self.default_reason
        super().__init__(self.reason)


class BadUrl(FetchError):
    """The URL is malformed, or has a forbidden scheme, userinfo or character (rules 26, 31)."""

    default_reason = "bad url"


class BlockedAddress(FetchError):
    """The host is or resolves to a non-public address (rule 27)."""

    default_reason = "blocked address"


class TooManyRedirects(FetchError):
    """More redirects than the policy allows (rule 28)."""

    default_reason = "too many redirects"


class RedirectLoop(TooManyRedirects):
    """A redirect pointed back to a URL already visited in the same exchange (rule 28)."""

    default_reason = "redirect loop"


class TooLarge(FetchError):
    """The (decoded) body grew past the policy's cap (rule 29)."""

    default_reason = "body too large"


class FetchTimeout(FetchError):
    """The connect timeout or the total deadline was reached (rule 29)."""

    default_reason = "timed out"


class NetworkError(FetchError):
    """The connection could not be made or broke (refused, reset, TLS failure, no address)."""

    default_reason = "network error"


class BadContentType(FetchError):
    """The response's Content-Type is not one the caller accepts (rule 30)."""

    default_reason = "bad content type"


class BadDocument(FetchError):
    """The body is not a JSON object, is nested too deeply or lacks an ``id`` (rule 30, cf. 24)."""

    default_reason = "bad document"


class IdMismatch(FetchError):
    """The document's ``id`` is not the URL it was fetched from, even after a re-fetch (rule 30)."""

    default_reason = "id does not match url"


class BudgetExhausted(FetchError):
    """The per-activity budget of outgoing fetches is spent (rule 32)."""

    default_reason = "fetch budget exhausted"


class HttpStatusError(FetchError):
    """The peer answered with a non-2xx status (after redirects)."""

    default_reason = "http error"

    def __init__(self, status: int, reason: str | None = None) -> None:
        self.status = status
        super().__init__(reason if reason is not None else f"http status {status}")
