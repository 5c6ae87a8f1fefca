"""Validation of remote actor documents: pure, no I/O, no database.

:func:`parse_actor_document` reads what Mastodon, Lemmy, Misskey, Pleroma, GoToSocial, Mbin and
others serve for an actor and returns a :class:`ParsedActor`, or raises
:class:`ActorDocumentError` naming the first rule broken. Tolerance is deliberate where peers
differ (``url`` as a string, a Link or an array; ``publicKey`` as an object or an array; an actor
with only a FEP-521a Multikey); strictness where authority is at stake (``id``, hosts, keys).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from fedi.crypto import (
    KeyFormatError,
    PublicKey,
    ed25519_public_key_from_multibase,
    load_public_key_pem,
)
from fedi.db.models import Actor, ActorType
from fedi.errors import ValidationError
from fedi.federation.shapes import first_href
from fedi.federation.vocab import as_list, first_id, id_of
from fedi.net.errors import BadUrl
from fedi.net.urls import host_of, same_document

__all__ = [
    "ACTOR_TYPES",
    "ActorDocumentError",
    "ParsedActor",
    "actor_type_of",
    "parse_actor_document",
]

ACTOR_TYPES = frozenset(member.value for member in ActorType)
_MAX_URL = 2048
_MAX_NAME = 255


class ActorDocumentError(ValidationError):
    """A fetched actor document breaks a rule; ``str(exc)`` says which, in a few words."""


@dataclass(frozen=True)
class ParsedActor:
    """The fields of a valid remote actor, ready to be written to an :class:`Actor` row."""

    uri: str
    type: ActorType
    domain: str
    username: str
    display_name: str
    summary: str
    url: str | None
    inbox: str
    outbox: str | None
    shared_inbox: str | None
    followers_url: str | None
    following_url: str | None
    manually_approves_followers: bool
    indexable: bool
    public_key_id: str | None
    public_key_pem: str | None
    ed25519_key_id: str | None
    ed25519_public_multibase: str | None
    document: dict[str, Any]

    def lists_key(self, key_id: str) -> bool:
        """Whether this actor publishes ``key_id`` (SECURITY.md rule 15)."""
        return key_id in (self.public_key_id, self.ed25519_key_id)

    def public_key(self, key_id: str) -> PublicKey | None:
        """The parsed key published as ``key_id``, or ``None`` if the actor does not list it."""
        if key_id == self.public_key_id and self.public_key_pem is not None:
            return load_public_key_pem(self.public_key_pem)
        if key_id == self.ed25519_key_id and self.ed25519_public_multibase is not None:
            return ed25519_public_key_from_multibase(self.ed25519_public_multibase)
        return None

    def apply_to(self, actor: Actor) -> None:
        """Copy every field onto ``actor`` (a remote row, new or cached)."""
        actor.uri = self.uri
        actor.type = self.type
        actor.local = False
        actor.domain = self.domain
        actor.username = self.username
        actor.display_name = self.display_name
        actor.summary = self.summary
        actor.url = self.url
        actor.inbox = self.inbox
        actor.outbox = self.outbox
        actor.shared_inbox = self.shared_inbox
        actor.followers_url = self.followers_url
        actor.following_url = self.following_url
        actor.manually_approves_followers = self.manually_approves_followers
        actor.indexable = self.indexable
        actor.public_key_id = self.public_key_id
        actor.public_key_pem = self.public_key_pem
        actor.ed25519_key_id = self.ed25519_key_id
        actor.ed25519_public_multibase = self.ed25519_public_multibase
        actor.document = self.document


def actor_type_of(document: dict[str, Any]) -> ActorType | None:
    """The actor type named by ``type`` (a string or an array), or ``None`` if it names none."""
    for name in as_list(document.get("type")):
        if isinstance(name, str) and name in ACTOR_TYPES:
            return ActorType(name)
    return None


def parse_actor_document(document: dict[str, Any], url: str) -> ParsedActor:
    """Validate ``document``, fetched from ``url``, as a remote actor.

    Rules: ``type`` is Person, Group, Application, Service or Organization; ``id`` is ``url``
    (fragment aside); ``inbox`` is required and, like ``endpoints.sharedInbox``, on the actor's
    host or over https; ``publicKey`` (``id`` on the actor's host, ``owner`` the actor,
    ``publicKeyPem`` readable) and FEP-521a ``assertionMethod`` Ed25519 Multikeys are optional,
    and entries that break a rule are ignored rather than trusted. Raises
    :class:`ActorDocumentError`.
    """
    actor_type = actor_type_of(document)
    if actor_type is None:
        raise ActorDocumentError("not an actor type")
    uri = document.get("id")
    if not isinstance(uri, str) or len(uri) > _MAX_URL:
        raise ActorDocumentError("actor has no id")
    if not same_document(uri, url) or "#" in uri:
        raise ActorDocumentError("actor id is not the url fetched")
    domain = _host(uri)
    if domain is None:
        raise ActorDocumentError("actor id is not a valid url")
    inbox = _endpoint(document.get("inbox"), domain)
    if inbox is None:
        raise ActorDocumentError("actor has no usable inbox")
    endpoints = document.get("endpoints")
    shared_value = endpoints.get("sharedInbox") if isinstance(endpoints, dict) else None
    # Misskey also writes sharedInbox at the top level; endpoints.sharedInbox is the standard.
    shared_inbox = _endpoint(shared_value or document.get("sharedInbox"), domain)
    public_key_id, public_key_pem = _rsa_key(document.get("publicKey"), uri, domain)
    ed_key_id, ed_multibase = _ed25519_key(document.get("assertionMethod"), uri, domain)
    return ParsedActor(
        uri=uri,
        type=actor_type,
        domain=domain,
        username=_username(document.get("preferredUsername"), uri),
        display_name=_text(document.get("name"), _MAX_NAME),
        summary=_text(document.get("summary"), 100_000),
        url=first_href(document.get("url")),
        inbox=inbox,
        outbox=_iri(document.get("outbox")),
        shared_inbox=shared_inbox,
        followers_url=_iri(document.get("followers")),
        following_url=_iri(document.get("following")),
        manually_approves_followers=document.get("manuallyApprovesFollowers") is True,
        indexable=_indexable(document),
        public_key_id=public_key_id,
        public_key_pem=public_key_pem,
        ed25519_key_id=ed_key_id,
        ed25519_public_multibase=ed_multibase,
        document=document,
    )


def _host(url: str) -> str | None:
    try:
        return host_of(url)
    except BadUrl:
        return None


def _iri(value: Any) -> str | None:
    ident = id_of(value)
    if ident is None or len(ident) > _MAX_URL or _host(ident) is None:
        return None
    return ident


def _endpoint(value: Any, domain: str) -> str | None:
    """An inbox URL we may deliver to: on the actor's own host, or any host over https."""
    ident = _iri(value)
    if ident is None:
        return None
    if _host(ident) == domain or urlsplit(ident).scheme == "https":
        return ident
    return None


def _text(value: Any, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _username(value: Any, uri: str) -> str:
    if isinstance(value, str) and value.strip():
        return value.strip()[:_MAX_NAME]
    # Some relays and older servers publish no preferredUsername: use the last path segment.
    segment = urlsplit(uri).path.rstrip("/").rsplit("/", 1)[-1]
    return (segment or urlsplit(uri).netloc)[:_MAX_NAME]


def _indexable(document: dict[str, Any]) -> bool:
    # Mastodon's ``indexable`` (4.2) is the opt-in to full-text search; older servers only have
    # ``discoverable``. Absent both, we do not index, as Mastodon does not.
    for name in ("indexable", "discoverable"):
        value = document.get(name)
        if isinstance(value, bool):
            return value
    return False


def _same_actor(value: Any, uri: str) -> bool:
    ident = first_id(value)
    return ident is not None and same_document(ident, uri) and "#" not in ident


def _key_id(value: Any, domain: str) -> str | None:
    ident = value if isinstance(value, str) else None
    if ident is None or len(ident) > _MAX_URL or _host(ident) != domain:
        return None
    return ident


def _rsa_key(value: Any, uri: str, domain: str) -> tuple[str | None, str | None]:
    """The first ``publicKey`` entry owned by the actor, on its host, with a readable PEM."""
    for entry in as_list(value):
        if not isinstance(entry, dict):
            continue
        key_id = _key_id(entry.get("id"), domain)
        pem = entry.get("publicKeyPem")
        owner = entry.get("owner", entry.get("controller"))
        if key_id is None or not isinstance(pem, str) or not _same_actor(owner, uri):
            continue
        try:
            load_public_key_pem(pem)
        except (KeyFormatError, ValueError):
            continue
        return key_id, pem
    return None, None


def _ed25519_key(value: Any, uri: str, domain: str) -> tuple[str | None, str | None]:
    """The first FEP-521a Multikey under ``assertionMethod`` controlled by the actor."""
    for entry in as_list(value):
        if not isinstance(entry, dict) or "Multikey" not in as_list(entry.get("type")):
            continue
        key_id = _key_id(entry.get("id"), domain)
        multibase = entry.get("publicKeyMultibase")
        if key_id is None or not isinstance(multibase, str) or len(multibase) > 128:
            continue
        if not _same_actor(entry.get("controller"), uri):
            continue
        try:
            ed25519_public_key_from_multibase(multibase)
        except (KeyFormatError, ValueError):
            continue  # an RSA Multikey or garbage: we only verify Ed25519 ones
        return key_id, multibase
    return None, None
