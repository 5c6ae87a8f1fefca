"""What a content object carries besides its text, read from its AS2 document. Pure, no I/O.

Servers disagree on shapes, and every shape below was seen from at least one of them:

- ``tag``: one object or a list. ``Hashtag`` (Mastodon, Misskey, Pleroma, GoToSocial; Lemmy and
  Mbin too) with ``name`` "#x" and ``href`` (sometimes ``id`` instead, sometimes neither);
  ``Mention`` with ``href`` (the actor's id) and ``name`` "@user@host" (or no name); ``Emoji``
  with ``name`` ":code:" and ``icon`` (an ``Image`` with ``url`` and maybe ``mediaType``, or a
  bare URL). Other entries (``Link`` with a quote ``rel``, ``Infohash``, ...) are skipped here.
- ``attachment``: one object or a list of ``Document``/``Image``/``Video``/``Audio``/``Link``,
  ``url`` a string, a ``Link`` or a list of Links (PeerTube), ``href`` on a ``Link``; alt text in
  ``name`` (or ``summary``), ``blurhash``, ``width``, ``height``. ``PropertyValue`` entries
  (profile fields) are not attachments.
- ``sensitive`` a boolean; the content warning is ``summary`` on a ``Note`` (the text of an
  ``Article`` or ``Page`` summary is a summary, not a warning).
- quotes: ``quoteUrl`` (Misskey, Pleroma), ``_misskey_quote``, ``quoteUri`` (Fedibird), ``quote``
  (FEP-044f), or a FEP-e232 ``Link`` in ``tag`` whose ``rel`` names a quote.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from fedi.federation.vocab import as_list

__all__ = [
    "AttachmentRef",
    "Details",
    "EmojiRef",
    "MentionRef",
    "TagRef",
    "normalise_tag",
    "read_details",
]

MAX_URL = 2048
MAX_TAG = 256
MAX_ITEMS = 100  # per kind: a document listing more is cut, not refused
_MEDIA_KINDS = {"Image": "image", "Video": "video", "Audio": "audio", "Document": "document"}
_QUOTE_KEYS = ("quoteUrl", "_misskey_quote", "quoteUri", "quote")
_QUOTE_RELS = {
    "https://misskey-hub.net/ns#_misskey_quote",
    "http://fedibird.com/ns#quoteUri",
    "https://w3id.org/fep/044f#quote",
    "quote",
}


@dataclass(frozen=True)
class TagRef:
    name: str
    href: str | None


@dataclass(frozen=True)
class MentionRef:
    actor_uri: str
    name: str | None


@dataclass(frozen=True)
class EmojiRef:
    shortcode: str
    icon_url: str
    media_type: str | None


@dataclass(frozen=True)
class AttachmentRef:
    kind: str
    url: str
    media_type: str | None
    description: str | None
    width: int | None
    height: int | None
    blurhash: str | None


@dataclass(frozen=True)
class Details:
    tags: list[TagRef] = field(default_factory=list)
    mentions: list[MentionRef] = field(default_factory=list)
    emojis: list[EmojiRef] = field(default_factory=list)
    attachments: list[AttachmentRef] = field(default_factory=list)
    sensitive: bool = False
    content_warning: str | None = None
    quote_of: str | None = None


def normalise_tag(name: str) -> str:
    """A hashtag's stored form: without ``#``, NFC, lowercased (``#Écoles`` → ``écoles``)."""
    return unicodedata.normalize("NFC", name.strip().lstrip("#").strip()).casefold()[:MAX_TAG]


def _url(value: Any) -> str | None:
    if isinstance(value, str) and value.startswith(("https://", "http://")):
        return value if len(value) <= MAX_URL else None
    return None


def _href(value: Any) -> tuple[str | None, str | None]:
    """A URL and its media type from ``url``/``href``: a string, a Link or a list of either
    (the first usable one)."""
    for item in as_list(value):
        if isinstance(item, dict):
            url = _url(item.get("href")) or _url(item.get("url"))
            if url is not None:
                kind = item.get("mediaType")
                return url, kind[:128] if isinstance(kind, str) else None
        elif (url := _url(item)) is not None:
            return url, None
    return None, None


def _types(item: dict[str, Any]) -> set[str]:
    return {name for name in as_list(item.get("type")) if isinstance(name, str)}


def _size(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _text(value: Any, limit: int) -> str | None:
    return value.strip()[:limit] or None if isinstance(value, str) else None


def _entries(value: Any) -> Iterator[dict[str, Any]]:
    for item in as_list(value):
        if isinstance(item, dict):
            yield item


def _tags(document: dict[str, Any]) -> tuple[list[TagRef], list[MentionRef], list[EmojiRef]]:
    tags: dict[str, TagRef] = {}
    mentions: dict[str, MentionRef] = {}
    emojis: dict[str, EmojiRef] = {}
    for item in _entries(document.get("tag")):
        types = _types(item)
        name = item.get("name")
        if "Hashtag" in types or types == {"Tag"}:
            if not isinstance(name, str) or not normalise_tag(name):
                continue
            key = normalise_tag(name)
            href = _url(item.get("href")) or _url(item.get("id"))
            tags.setdefault(key, TagRef(key, href))
        elif "Mention" in types:
            actor = _url(item.get("href")) or _url(item.get("id"))
            if actor is not None:
                mentions.setdefault(actor, MentionRef(actor, _text(name, 512)))
        elif "Emoji" in types:
            icon = item.get("icon")
            url, media_type = _href(icon.get("url") if isinstance(icon, dict) else icon)
            if isinstance(icon, dict) and isinstance(icon.get("mediaType"), str):
                media_type = icon["mediaType"][:128]
            code = name.strip().strip(":") if isinstance(name, str) else ""
            if url is not None and code:
                emojis.setdefault(code, EmojiRef(code[:MAX_TAG], url, media_type))
    return (
        list(tags.values())[:MAX_ITEMS],
        list(mentions.values())[:MAX_ITEMS],
        list(emojis.values())[:MAX_ITEMS],
    )


def _attachments(document: dict[str, Any]) -> list[AttachmentRef]:
    found: list[AttachmentRef] = []
    for item in _entries(document.get("attachment")):
        types = _types(item)
        if "PropertyValue" in types:
            continue
        url, link_type = _href(item.get("url"))
        if url is None:
            url, link_type = _href(item.get("href"))
        if url is None:
            continue
        media_type = item.get("mediaType")
        media_type = media_type[:128] if isinstance(media_type, str) else link_type
        kind = next((_MEDIA_KINDS[t] for t in sorted(types) if t in _MEDIA_KINDS), "link")
        if kind == "document" and media_type:
            # Mastodon sends every file as a Document: its media type says what it is.
            kind = next(
                (k for k in ("image", "video", "audio") if media_type.startswith(f"{k}/")), kind
            )
        found.append(
            AttachmentRef(
                kind=kind,
                url=url,
                media_type=media_type,
                description=_text(item.get("name"), 5000) or _text(item.get("summary"), 5000),
                width=_size(item.get("width")),
                height=_size(item.get("height")),
                blurhash=_text(item.get("blurhash"), 128),
            )
        )
    return found[:MAX_ITEMS]


def _quote(document: dict[str, Any]) -> str | None:
    for key in _QUOTE_KEYS:
        url, _ = _href(document.get(key))
        if url is not None:
            return url
    for item in _entries(document.get("tag")):
        rels = {rel for rel in as_list(item.get("rel")) if isinstance(rel, str)}
        if "Link" in _types(item) and rels & _QUOTE_RELS:
            url = _url(item.get("href"))
            if url is not None:
                return url
    return None


def read_details(document: dict[str, Any], *, object_type: str) -> Details:
    """Tags, mentions, emoji, attachments, the sensitive flag, the content warning and the
    quoted object of ``document``; whatever is malformed is left out, nothing raises."""
    tags, mentions, emojis = _tags(document)
    warning: str | None = None
    if object_type == "Note":
        summary = document.get("summary")
        if not isinstance(summary, str):
            mapped = document.get("summaryMap")
            values = (
                [v for v in mapped.values() if isinstance(v, str)]
                if isinstance(mapped, dict)
                else []
            )
            summary = values[0] if values else None
        warning = _text(summary, 5000)
    return Details(
        tags=tags,
        mentions=mentions,
        emojis=emojis,
        attachments=_attachments(document),
        sensitive=document.get("sensitive") is True or warning is not None,
        content_warning=warning,
        quote_of=_quote(document),
    )
