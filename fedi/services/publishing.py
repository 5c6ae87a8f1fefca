"""Publishing content from a local actor: notes and articles, their updates and deletions, key
rotation. Objects are written through :mod:`fedi.content.service`, as received ones are.

Used by the client-to-server outbox now and by the web interface later. Input is validated before
anything is stored; the object, its activity and its deliveries are written in one transaction.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from fedi.actors.expertise import federated_profile
from fedi.content import service as content
from fedi.content.network import share_with_network
from fedi.crypto import keys
from fedi.db.models import Activity, Actor, ContentObject, utcnow
from fedi.errors import ForbiddenError, NotFoundError, ValidationError
from fedi.federation.html import sanitise_html
from fedi.federation.outbox import new_activity_id, new_object_id, publish
from fedi.federation.render import render_actor
from fedi.federation.shapes import read_object
from fedi.federation.vocab import AS2_CONTEXT, PUBLIC, id_of, ids_of, normalise_public
from fedi.settings import Settings

__all__ = [
    "delete_object",
    "object_recipients",
    "publish_actor_update",
    "publish_object",
    "rotate_keys",
    "update_object",
]

OBJECT_TYPES = frozenset({"Note", "Article", "Page"})
MAX_CONTENT = 100_000


def _text(
    value: Any, field: str, *, required: bool = False, limit: int = MAX_CONTENT
) -> str | None:
    if value is None:
        if required:
            raise ValidationError(f"{field} is required")
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{field} must be a string")
    if len(value) > limit:
        raise ValidationError(f"{field} is longer than {limit} characters")
    return value


def _iri(value: Any, field: str) -> str | None:
    """An absolute http(s) IRI, or ``None`` when absent."""
    text = _text(value, field, limit=2048)
    if text is None:
        return None
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValidationError(f"{field} must be an absolute http(s) IRI")
    return text


_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")


def _text_map(value: Any, field: str, limit: int) -> dict[str, str] | None:
    """A language map (BCP 47 tag -> text), or ``None`` when absent."""
    if value is None:
        return None
    if not isinstance(value, dict) or not value:
        raise ValidationError(f"{field} must map language tags to texts")
    checked: dict[str, str] = {}
    for language, text in value.items():
        if not isinstance(language, str) or not _LANGUAGE_TAG.match(language):
            raise ValidationError(f"{field}: {language!r} is not a language tag")
        checked[language] = _text(text, f"{field}.{language}", required=True, limit=limit) or ""
    return checked


def _or_first(text: str | None, translations: dict[str, str] | None) -> str | None:
    """``text`` when given (even empty, so that it is checked), else the first translation."""
    if text is not None or not translations:
        return text
    return next(iter(translations.values()))


def _unique(iris: list[str]) -> list[str]:
    return list(dict.fromkeys(iris))


ADDRESSING = ("to", "cc", "bto", "bcc", "audience")


def merge_addressing(activity: dict[str, Any], obj: dict[str, Any]) -> dict[str, Any]:
    """The object with the recipients of its ``Create`` added (ActivityPub 6.2: addressing on
    the activity and on its object go together), each list without repeats."""
    merged = dict(obj)
    for key in ADDRESSING:
        combined = _unique([*ids_of(obj.get(key)), *ids_of(activity.get(key))])
        if combined:
            merged[key] = combined
    return merged


def object_recipients(payload: dict[str, Any], sender: Actor) -> list[str]:
    """Every IRI a new object addresses (``to``, ``cc``, ``bto``, ``bcc``, ``audience``,
    mentions), public forms and the sender's followers excluded."""
    named = [
        *(iri for key in ADDRESSING for iri in ids_of(payload.get(key))),
        *(mention["href"] for mention in _mentions(payload)),
    ]
    return [
        iri
        for iri in dict.fromkeys(normalise_public(named))
        if iri not in (PUBLIC, sender.followers_url)
    ]


def _mentions(payload: dict[str, Any]) -> list[dict[str, str]]:
    """The ``Mention`` tags of a client's object, reduced to ``href`` and optional ``name``."""
    tags = payload.get("tag")
    mentions: list[dict[str, str]] = []
    for tag in tags if isinstance(tags, list) else []:
        if (
            isinstance(tag, dict)
            and tag.get("type") == "Mention"
            and isinstance(tag.get("href"), str)
        ):
            mention = {"type": "Mention", "href": tag["href"]}
            if isinstance(tag.get("name"), str):
                mention["name"] = tag["name"]
            mentions.append(mention)
    return mentions


# The text properties a client writes; each plain one goes with its language map.
_TEXTS = ("content", "name", "summary")
_TEXT_PROPERTIES = frozenset({*_TEXTS, *(f"{key}Map" for key in _TEXTS)})


def _texts(payload: dict[str, Any], kind: str) -> dict[str, Any]:
    """The text properties of a client's object of type ``kind``, validated; the HTML ones
    (content, summary) sanitised. Translations (contentMap, nameMap, summaryMap): a server that
    reads only the plain property gets the first language given."""
    maps = {
        "contentMap": _text_map(payload.get("contentMap"), "contentMap", MAX_CONTENT),
        "nameMap": _text_map(payload.get("nameMap"), "nameMap", 1000),
        "summaryMap": _text_map(payload.get("summaryMap"), "summaryMap", 5000),
    }
    content = _or_first(
        _text(payload.get("content"), "content", required=not maps["contentMap"]),
        maps["contentMap"],
    )
    # Lemmy and Mbin refuse a Page without a name; Mastodon shows a nameless Article as a bare
    # link. A Note's name is left out, as Mastodon would show it in place of the text.
    required_name = kind != "Note" and not maps["nameMap"]
    name = _or_first(
        _text(payload.get("name"), "name", required=required_name, limit=1000), maps["nameMap"]
    )
    if name is not None and not name.strip():
        raise ValidationError(f"name must not be empty for {kind}")
    summary = _or_first(_text(payload.get("summary"), "summary", limit=5000), maps["summaryMap"])
    texts: dict[str, Any] = {"content": sanitise_html(content or "")}
    if name is not None:
        texts["name"] = name
    if summary is not None:
        texts["summary"] = sanitise_html(summary)  # AS2: summary is HTML, like content
    for key, translations in maps.items():
        if translations:
            html = key != "nameMap"  # AS2: name is plain text, content and summary are HTML
            texts[key] = {
                language: sanitise_html(text) if html else text
                for language, text in translations.items()
            }
    return texts


def _kind(payload: dict[str, Any]) -> str:
    kind = payload.get("type")
    if not isinstance(kind, str) or kind not in OBJECT_TYPES:
        raise ValidationError(
            f"type must be one of {', '.join(sorted(OBJECT_TYPES))}, got {kind!r}"[:300]
        )
    return kind


async def publish_object(
    session: AsyncSession, settings: Settings, author: Actor, payload: dict[str, Any]
) -> Activity:
    """Create a Note, Article or Page from a client's ``Create`` or bare object and send it.

    Addressing defaults to public with followers in ``cc``. Recipients that are not the public
    collection or the author's followers must already be known actors (see ``object_recipients``).
    """
    kind = _kind(payload)
    texts = _texts(payload, kind)
    # Clients may embed the parent instead of naming it: its id is what the reply points to.
    in_reply_to = _iri(id_of(payload.get("inReplyTo")) or payload.get("inReplyTo"), "inReplyTo")
    to = _unique(normalise_public(list(ids_of(payload.get("to")))))
    cc = [
        iri for iri in _unique(normalise_public(list(ids_of(payload.get("cc"))))) if iri not in to
    ]
    # Blind recipients get the activity but are never stored or shown (publish() strips them).
    blind = {key: _unique(list(ids_of(payload.get(key)))) for key in ("bto", "bcc")}
    if not any(payload.get(key) for key in ADDRESSING):
        to, cc = [PUBLIC], [author.followers_url or ""]
    tags = _mentions(payload)
    for mention in tags:
        if mention["href"] not in to and mention["href"] not in cc:
            cc.append(mention["href"])
    published = _now_iso()
    document: dict[str, Any] = {
        "id": new_object_id(settings),
        "type": kind,
        "attributedTo": author.uri,
        **texts,
        "published": published,
        "to": to,
        "cc": cc,
    }
    document["url"] = document["id"]
    if in_reply_to is not None:
        document["inReplyTo"] = in_reply_to
    if tags:
        document["tag"] = tags
    stored = {"@context": AS2_CONTEXT, **document}
    content.create(session, read_object(stored), stored, author_id=author.id, local=True)
    create = {
        "@context": AS2_CONTEXT,
        "id": new_activity_id(settings),
        "type": "Create",
        "actor": author.uri,
        "published": published,
        "to": to,
        "cc": cc,
        **{key: iris for key, iris in blind.items() if iris},
        "object": document,
    }
    activity = await publish(session, author, create)
    await share_with_network(session, settings, activity)
    return activity


async def _own_object(session: AsyncSession, author: Actor, object_id: str) -> ContentObject:
    """The object ``object_id`` if ``author`` wrote it: :class:`NotFoundError` when it does not
    exist (or is deleted), :class:`ForbiddenError` when someone else wrote it."""
    row = await content.find(session, object_id)
    if row is None or row.deleted_at is not None:
        raise NotFoundError(f"no object {object_id}")
    if row.attributed_to_id != author.id or not row.local:
        raise ForbiddenError(f"{object_id} belongs to someone else")
    return row


async def update_object(
    session: AsyncSession,
    settings: Settings,
    author: Actor,
    changes: dict[str, Any],
) -> Activity:
    """Change the texts of one of ``author``'s objects and tell everyone it was addressed to.

    ``changes`` is the client's object: its ``id``, and the text properties that replace the
    stored ones (a plain property and its language map go together: giving either replaces
    both). Other properties may be given only unchanged; addressing stays as published.
    """
    object_id = _iri(changes.get("id"), "object id")
    if object_id is None:
        raise ValidationError("Update needs the object's id")
    row = await _own_object(session, author, object_id)
    old = {key: value for key, value in row.document.items() if key != "@context"}
    kind = str(old.get("type"))
    for key, value in changes.items():
        if key not in _TEXT_PROPERTIES and key != "updated" and value != old.get(key):
            raise ValidationError(f"{key[:100]} cannot be changed by an Update")
    merged = {key: old[key] for key in _TEXT_PROPERTIES if key in old}
    for key in _TEXTS:
        if key in changes or f"{key}Map" in changes:
            for prop in (key, f"{key}Map"):
                merged.pop(prop, None)
                if changes.get(prop) is not None:
                    merged[prop] = changes[prop]
    document = {
        **{key: value for key, value in old.items() if key not in _TEXT_PROPERTIES},
        **_texts(merged, kind),
        "updated": _now_iso(),
    }
    stored = {"@context": AS2_CONTEXT, **document}
    content.revise(row, read_object(stored), stored, now=utcnow())
    update = {
        "@context": AS2_CONTEXT,
        "id": new_activity_id(settings),
        "type": "Update",
        "actor": author.uri,
        "to": list(ids_of(document.get("to"))),
        "cc": list(ids_of(document.get("cc"))),
        "object": document,
    }
    activity = await publish(session, author, update)
    await share_with_network(session, settings, activity)
    return activity


async def delete_object(
    session: AsyncSession, settings: Settings, author: Actor, object_id: str
) -> Activity:
    """Replace an object of ``author`` with a Tombstone and tell everyone who received it."""
    row = await _own_object(session, author, object_id)
    delete = content.deletion(row, author.uri, new_activity_id(settings), now=utcnow())
    activity = await publish(session, author, delete)
    await share_with_network(session, settings, activity)
    return activity


async def rotate_keys(session: AsyncSession, settings: Settings, actor: Actor) -> Activity:
    """Give ``actor`` new RSA and Ed25519 keys and announce them with ``Update``.

    The key ids stay the same, so peers that cached the old key fail to verify once, re-fetch
    the actor (SECURITY.md: key rotation) and carry on.
    """
    rsa_key = keys.generate_rsa_key()
    ed_key = keys.generate_ed25519_key()
    actor.public_key_pem = keys.dump_public_key_pem(rsa_key.public_key())
    actor.private_key_pem = keys.dump_private_key_pem(rsa_key)
    actor.ed25519_public_multibase = keys.ed25519_public_key_to_multibase(ed_key.public_key())
    actor.ed25519_private_pem = keys.dump_private_key_pem(ed_key)
    return await publish_actor_update(session, settings, actor)


async def publish_actor_update(session: AsyncSession, settings: Settings, actor: Actor) -> Activity:
    """Send ``actor``'s followers an ``Update`` carrying its current document (new keys, a new
    name or summary), so that their servers refresh the copy they cached."""
    await session.flush()
    update = {
        "@context": AS2_CONTEXT,
        "id": new_activity_id(settings),
        "type": "Update",
        "actor": actor.uri,
        "to": [PUBLIC],
        "cc": [actor.followers_url],
        "object": render_actor(actor, settings, await federated_profile(session, actor)),
    }
    return await publish(session, actor, update)


def _now_iso() -> str:
    return utcnow().isoformat(timespec="seconds").replace("+00:00", "Z")
