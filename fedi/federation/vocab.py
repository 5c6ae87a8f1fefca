"""ActivityStreams vocabulary: the contexts we emit and tolerant readers for what peers send.

Real servers vary: the public collection is written ``Public``, ``as:Public`` (Fedify) or as the
full IRI; ``to``/``cc`` are often a single string instead of an array (Fedify, Lemmy); ``object``
may be embedded, an IRI, or an array; Lemmy omits ``@context``. The readers here accept all of
these and give back one canonical shape.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

__all__ = [
    "ACTIVITY_JSON",
    "AS2_CONTEXT",
    "LD_JSON_AS2",
    "PUBLIC",
    "actor_context",
    "as_list",
    "first_id",
    "id_of",
    "ids_of",
    "is_public",
    "object_context",
    "wants_activity_json",
]

AS2_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT = "https://w3id.org/security/v1"
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
_PUBLIC_FORMS = frozenset({PUBLIC, "Public", "as:Public"})

ACTIVITY_JSON = "application/activity+json"
LD_JSON_AS2 = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'

# Terms outside AS2 that Mastodon-family servers read, mapped to their published IRIs.
_EXTRA_TERMS: dict[str, Any] = {
    "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
    "toot": "http://joinmastodon.org/ns#",
    "discoverable": "toot:discoverable",
    "indexable": "toot:indexable",
}


def actor_context() -> list[Any]:
    """``@context`` of an actor: AS2, security (``publicKey``) and Multikey (FEP-521a)."""
    return [AS2_CONTEXT, SECURITY_CONTEXT, MULTIKEY_CONTEXT, dict(_EXTRA_TERMS)]


def object_context() -> list[Any]:
    return [AS2_CONTEXT]


def as_list(value: Any) -> list[Any]:
    """``None`` → ``[]``; a single value → ``[value]``; a list stays a list."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def id_of(value: Any) -> str | None:
    """The IRI of an embedded object (its ``id``), or the value itself when it is an IRI."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, dict):
        ident = value.get("id")
        return ident if isinstance(ident, str) and ident else None
    return None


def ids_of(value: Any) -> Iterator[str]:
    for item in as_list(value):
        ident = id_of(item)
        if ident is not None:
            yield ident


def first_id(value: Any) -> str | None:
    """The first IRI of a value that may be a single item or an array (``object``, ``actor``)."""
    return next(ids_of(value), None)


def is_public(document: dict[str, Any]) -> bool:
    """Whether ``to``, ``cc`` or ``audience`` names the public collection in any of its forms.

    Read on every activity the inbox takes: loops rather than ``ids_of``'s generators."""
    for key in ("to", "cc", "audience"):
        value = document.get(key)
        for item in value if isinstance(value, list) else (value,):
            ident = item.get("id") if isinstance(item, dict) else item
            if isinstance(ident, str) and ident in _PUBLIC_FORMS:
                return True
    return False


def normalise_public(ids: list[str]) -> list[str]:
    return [PUBLIC if ident in _PUBLIC_FORMS else ident for ident in ids]


def wants_activity_json(accept: str) -> bool:
    """Whether an ``Accept`` header asks for the ActivityStreams representation.

    ``application/activity+json`` and ``application/ld+json`` (with the AS2 profile or none, as
    Mastodon and Fedify send) select JSON; anything else (browsers, ``*/*``) gets the HTML page.
    """
    for part in accept.lower().split(","):
        media, _, params = part.partition(";")
        media = media.strip()
        if re.search(r"(?:^|;)\s*q\s*=\s*0(?:\.0*)?\s*(?:;|$)", params):
            continue  # q=0: explicitly not acceptable
        if media == ACTIVITY_JSON:
            return True
        if media == "application/ld+json":
            return "profile" not in params or "activitystreams" in params
    return False
