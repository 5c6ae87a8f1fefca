"""Reading and judging response bodies: capped streaming, safe decompression, JSON objects.

Nothing here trusts the peer: ``Content-Length`` may only make a refusal earlier, never an
acceptance (SECURITY.md rule 29), and decompression output is bounded chunk by chunk, so a small
gzip bomb cannot allocate more than the cap.
"""

from __future__ import annotations

import datetime
import email.utils
import json
import zlib
from typing import Any

import httpx
import orjson

from fedi.net.errors import BadContentType, BadDocument, FetchError, TooLarge

__all__ = [
    "json_depth_exceeds",
    "media_type",
    "parse_json_object",
    "parse_retry_after",
    "read_capped",
    "read_excerpt",
]


def media_type(content_type: str | None) -> str:
    """The bare, lower-cased media type of a ``Content-Type`` value (``""`` when absent)."""
    if not content_type:
        return ""
    return content_type.split(";", 1)[0].strip().lower()


def _decoder(response: httpx.Response) -> Any:
    encoding = response.headers.get("content-encoding", "").strip().lower()
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.decompressobj(zlib.MAX_WBITS)
    raise BadContentType(f"unsupported content-encoding {encoding[:40]}")


async def read_capped(response: httpx.Response, cap: int) -> bytes:
    """Read the whole (decoded) body of a streamed ``response``; :class:`TooLarge` past ``cap``.

    Only ``gzip`` and ``deflate`` content-codings are decoded (they are all we ask for).
    """
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise TooLarge(f"declared length over {cap} bytes")
    decoder = _decoder(response)
    body = bytearray()
    try:
        async for chunk in response.aiter_raw():
            if decoder is None:
                body += chunk
            else:
                body += decoder.decompress(chunk, cap + 1 - len(body))
                if decoder.unconsumed_tail:
                    raise TooLarge(f"body over {cap} bytes")
            if len(body) > cap:
                raise TooLarge(f"body over {cap} bytes")
        if decoder is not None:
            body += decoder.flush()
    except zlib.error as exc:
        raise FetchError("bad compressed body") from exc
    if len(body) > cap:
        raise TooLarge(f"body over {cap} bytes")
    return bytes(body)


async def read_excerpt(response: httpx.Response, cap: int) -> bytes:
    """Read at most ``cap`` raw bytes of ``response`` and stop; the rest is never read."""
    excerpt = bytearray()
    async for chunk in response.aiter_raw():
        excerpt += chunk[: cap - len(excerpt)]
        if len(excerpt) >= cap:
            break
    return bytes(excerpt)


def json_depth_exceeds(value: Any, limit: int) -> bool:
    """Whether ``value`` nests objects/arrays deeper than ``limit`` (the top level is depth 1).

    Iterative, so a hostile document cannot exhaust the Python stack.
    """
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


# Every digit to "0", both opening brackets to "{", every other byte to a space: a run of 19
# digits shows as 19 zeros, and the "{" count bounds the nesting.
_SCAN = bytes(
    0x30 if 0x30 <= byte <= 0x39 else 0x7B if byte in b"{[" else 0x20 for byte in range(256)
)
_LONG_RUN = b"0" * 19


def parse_json_object(body: bytes, *, max_depth: int) -> dict[str, Any]:
    """Parse ``body`` as a JSON object; :class:`BadDocument` for invalid JSON, a top level that is
    not an object, or nesting deeper than ``max_depth`` (cf. rule 24).
    """
    scanned = body.translate(_SCAN)
    try:
        if _LONG_RUN in scanned:
            # orjson reads an integer over 64 bits as a float, losing digits.
            raise orjson.JSONDecodeError("long number", "", 0)
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        # The standard library decides what orjson refuses or would read differently (another
        # encoding than UTF-8, long integers, NaN...): the result never depends on which parsed.
        try:
            data = json.loads(body)
        except RecursionError:
            raise BadDocument("json nested too deeply") from None
        except ValueError:
            raise BadDocument("invalid json") from None
    if not isinstance(data, dict):
        raise BadDocument("top level is not a json object")
    # Each level of nesting opens with a bracket of its own: with no more brackets in the text
    # than levels allowed (the usual case), the walk cannot find too deep a document.
    if scanned.count(b"{") > max_depth and json_depth_exceeds(data, max_depth):
        raise BadDocument("json nested too deeply")
    # NUL can only come in as the escape \u0000 (a raw one is invalid JSON). PostgreSQL cannot
    # store it in text, and no peer needs it: refuse the document rather than fail later.
    if b"u0000" in body and _holds_nul(data):
        raise BadDocument("json holds a NUL character")
    return data


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(key) or _holds_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delta-seconds or an HTTP-date; ``None`` when
    absent or unparseable. A date in the past gives ``0.0``. ``now`` is a POSIX timestamp.
    """
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        # A peer's absurdly long number is a long wait, not an error: callers cap it anyway.
        return float(int(value)) if len(value) <= 15 else float("inf")
    try:
        when = email.utils.parsedate_to_datetime(value)
        if when.tzinfo is None:  # "-0000" or no zone: HTTP-dates are GMT, read it as UTC
            when = when.replace(tzinfo=datetime.UTC)
        return max(0.0, when.timestamp() - now)
    except (TypeError, ValueError, IndexError, OverflowError, OSError):
        return None
