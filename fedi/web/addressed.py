"""The URL of an incoming request as its sender addressed it, for checking signatures."""

from __future__ import annotations

from starlette.types import Scope

__all__ = ["addressed_url"]


def addressed_url(scope: Scope, base_url: str) -> str:
    """Our public base URL, then the path and query exactly as received.

    The path is the raw one (``raw_path``), not the decoded ``path``: a sender signs
    ``/objects/a%20b`` as it wrote it, and decoding it would make the signature fail."""
    raw = scope.get("raw_path")
    path = raw.decode("latin-1") if isinstance(raw, bytes) and raw else scope["path"]
    query = scope.get("query_string", b"").decode("latin-1")
    return f"{base_url}{path}?{query}" if query else f"{base_url}{path}"
