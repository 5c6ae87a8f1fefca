"""Tolerant readers for the shape of incoming activities and content objects. Pure, no I/O.

Peers disagree on shapes (see :mod:`fedi.federation.vocab`): ``type`` may be an array, ``object``
embedded, an IRI or an array, ``to`` a string, the public collection ``Public``/``as:Public``/the
IRI, ``@context`` absent (Lemmy), ``url`` a string, a Link or an array, text in ``content`` or
only in ``contentMap``. These readers give one canonical shape or raise :class:`ShapeError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from fedi.errors import ValidationError
from fedi.federation.vocab import as_list, first_id, id_of, ids_of, is_public
from fedi.net.errors import BadUrl
from fedi.net.urls import host_of

__all__ = [
    "CONTENT_TYPES",
    "ActivityShape",
    "ObjectFields",
    "ShapeError",
    "first_href",
    "read_activity",
    "read_object",
    "type_of",
]

MAX_URL = 2048
# Objects stored as content. ChatMessage (Mbin, Pleroma) and others are recorded, not stored.
CONTENT_TYPES = frozenset(
    {"Note", "Article", "Page", "Question", "Event", "Video", "Audio", "Image", "Document"}
)
_ADDRESSING = ("to", "cc", "audience")


class ShapeError(ValidationError):
    """An activity or object lacks something we cannot do without; ``str(exc)`` says what."""


class ActivityShape(NamedTuple):
    """What the inbox and the processor need of an activity (a tuple: made on every request).

    ``object`` is the embedded object (the first one when ``object`` is an array), or ``None``
    when only an IRI was given.
    """

    id: str
    type: str
    actor: str
    object_id: str | None
    object: dict[str, Any] | None
    public: bool


@dataclass(frozen=True)
class ObjectFields:
    """The stored columns of a content object, read from its document."""

    uri: str
    type: str
    attributed_to: list[str]
    in_reply_to: str | None
    context: str | None
    audience: str | None
    url: str | None
    name: str | None
    summary: str | None
    content: str | None
    source: str | None
    source_media_type: str | None
    language: str | None
    public: bool
    published: datetime | None
    updated: datetime | None


def type_of(document: dict[str, Any]) -> str | None:
    """The first string in ``type`` (a string or an array), at most 64 characters."""
    for name in as_list(document.get("type")):
        if isinstance(name, str) and 0 < len(name) <= 64:
            return name
    return None


def _url(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_URL:
        raise ShapeError(f"{what} is missing or not an IRI")
    try:
        host_of(value)
    except BadUrl:
        raise ShapeError(f"{what} is not a valid url") from None
    return value


def read_activity(document: dict[str, Any]) -> ActivityShape:
    """Read ``id``, ``type``, ``actor`` and ``object`` of an activity; raise :class:`ShapeError`.

    ``actor`` may be an IRI, an embedded actor or an array (the first one counts).
    """
    activity_type = type_of(document)
    if activity_type is None:
        raise ShapeError("activity has no type")
    activity_id = _url(document.get("id"), "activity id")
    actor = _url(first_id(document.get("actor")), "activity actor")
    embedded: dict[str, Any] | None = None
    object_id: str | None = None
    for item in as_list(document.get("object")):
        object_id = id_of(item)
        embedded = item if isinstance(item, dict) else None
        break
    if object_id is not None and len(object_id) > MAX_URL:
        raise ShapeError("object id too long")
    return ActivityShape(
        id=activity_id,
        type=activity_type,
        actor=actor,
        object_id=object_id,
        object=embedded,
        public=is_public(document),
    )


def first_href(value: Any) -> str | None:
    """``url`` as a string, a Link (``href``) or an array of either: the first usable one.

    For display only: ``url`` never vouches for anything (SECURITY.md rule 30).
    """
    for item in as_list(value):
        href = item.get("href") if isinstance(item, dict) else item
        if isinstance(href, str) and len(href) <= MAX_URL:
            try:
                host_of(href)
            except BadUrl:
                continue
            return href
    return None


def _text(document: dict[str, Any], name: str) -> tuple[str | None, str | None]:
    """``name`` as a string, else the first value of ``nameMap``; with its language: the map's
    key whose value is ``name``'s text, else the map's first key (Mastodon sends both ``content``
    and ``contentMap``, not always with the same markup)."""
    value = document.get(name)
    mapped = document.get(f"{name}Map")
    entries = (
        [(k, v) for k, v in mapped.items() if isinstance(k, str) and isinstance(v, str)]
        if isinstance(mapped, dict)
        else []
    )
    if isinstance(value, str):
        language = next((k for k, v in entries if v == value), None)
        if language is None and entries:
            language = entries[0][0]
        return value, language
    if entries:
        return entries[0][1], entries[0][0]
    return None, None


def _context_language(document: dict[str, Any]) -> str | None:
    """``@language`` of the document's ``@context`` (a string in an object of the list)."""
    for item in as_list(document.get("@context")):
        if isinstance(item, dict):
            language = item.get("@language")
            if isinstance(language, str) and language:
                return language
    return None


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _short_iri(value: Any) -> str | None:
    ident = first_id(value)
    return ident if ident is not None and len(ident) <= MAX_URL else None


def read_object(document: dict[str, Any], *, public_default: bool = False) -> ObjectFields:
    """Read the stored fields of a content object; raise :class:`ShapeError`.

    ``public_default`` applies when the object carries no addressing of its own (some servers
    address only the activity).
    """
    object_type = type_of(document)
    if object_type is None:
        raise ShapeError("object has no type")
    uri = _url(document.get("id"), "object id")
    name, name_language = _text(document, "name")
    summary, _ = _text(document, "summary")
    content, language = _text(document, "content")
    language = language or name_language or _context_language(document)
    source = document.get("source")
    source_text = source.get("content") if isinstance(source, dict) else None
    source_type = source.get("mediaType") if isinstance(source, dict) else None
    addressed = any(document.get(key) is not None for key in _ADDRESSING)
    # Mastodon writes its thread id in ``conversation``; FEP-7888 and Lemmy use ``context``.
    context = _short_iri(document.get("context")) or _short_iri(document.get("conversation"))
    return ObjectFields(
        uri=uri,
        type=object_type,
        attributed_to=[i for i in ids_of(document.get("attributedTo")) if len(i) <= MAX_URL],
        in_reply_to=_short_iri(document.get("inReplyTo")),
        context=context,
        audience=_short_iri(document.get("audience")),
        url=first_href(document.get("url")),
        name=name,
        summary=summary,
        content=content,
        source=source_text if isinstance(source_text, str) else None,
        source_media_type=source_type[:128] if isinstance(source_type, str) else None,
        language=language[:16] if language else None,
        public=is_public(document) if addressed else public_default,
        published=_time(document.get("published")),
        updated=_time(document.get("updated")),
    )
