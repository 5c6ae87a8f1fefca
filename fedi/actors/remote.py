"""Remote actors: fetching, WebFinger look-up and the cached ``Actor`` rows.

Every fetch goes through the instance's :class:`~fedi.net.client.SafeClient` (SECURITY.md rules
26-32) and is signed by the local instance actor (FEP-2677), so that peers running in
authorized-fetch mode ("secure mode" in Mastodon) answer. Fetched documents are validated by
:func:`fedi.actors.document.parse_actor_document` before anything is stored.

Functions that take a ``session`` write into it without committing: the caller decides whether
the result is kept. The key resolver of incoming signatures takes none and writes nothing: the
inbox stores a fetched signer with the activity it accepts, and only then.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import httpx
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.actors.document import (
    ActorDocumentError,
    ParsedActor,
    actor_type_of,
    parse_actor_document,
)
from fedi.actors.expertise import store_expert_profile
from fedi.actors.local import INSTANCE_ACTOR_USERNAME
from fedi.blocks.service import domain_blocked
from fedi.crypto import (
    KeyFormatError,
    PrivateKey,
    PublicKey,
    ResolvedKey,
    ed25519_public_key_from_multibase,
    load_private_key_pem,
    load_public_key_pem,
)
from fedi.db.models import Actor
from fedi.federation.vocab import first_id
from fedi.instance import InstanceContext
from fedi.log import log_event
from fedi.net.auth import SignatureAuth
from fedi.net.client import JSON_ACCEPT, FetchBudget, FetchedDocument
from fedi.net.errors import BadDocument, BadUrl, FetchError
from fedi.net.urls import host_of, normalize_host, without_fragment

__all__ = [
    "ActorDocumentError",
    "ActorKeyResolver",
    "CachedKeys",
    "KeyFetchBusy",
    "KnownActor",
    "actor_by_handle",
    "fetch_actor",
    "fetch_document",
    "instance_actor_auth",
    "is_inactive",
    "known_uris",
    "public_key_of",
    "store_actor",
    "webfinger_actor_uri",
]

_HANDLE = re.compile(r"^@?([^@\s/?#]{1,255})@([^@\s/?#]{1,255})$")
_AS2_LINK_TYPES = frozenset({"application/activity+json", "application/ld+json"})
_log = logging.getLogger("fedi.federation")


@lru_cache(maxsize=64)
def _private_key(pem: str) -> PrivateKey:
    # Parsing an RSA key costs milliseconds; the instance actor's key is used for every fetch.
    return load_private_key_pem(pem)


async def instance_actor_auth(ctx: InstanceContext, session: AsyncSession) -> httpx.Auth | None:
    """A :class:`SignatureAuth` signing as the local instance actor, or ``None`` if it does not
    exist yet (before ``fedi migrate`` has created it): the fetch is then unsigned."""
    row = await session.execute(
        select(Actor.public_key_id, Actor.private_key_pem).where(
            Actor.local.is_(True),
            Actor.domain == ctx.settings.domain,
            Actor.username == INSTANCE_ACTOR_USERNAME,
        )
    )
    found = row.first()
    if found is None or found.public_key_id is None or found.private_key_pem is None:
        return None
    return SignatureAuth(found.public_key_id, _private_key(found.private_key_pem), ctx.clock)


async def fetch_document(
    ctx: InstanceContext, session: AsyncSession, url: str, *, budget: FetchBudget
) -> FetchedDocument:
    """GET an ActivityStreams document, signed by the instance actor.

    The document's ``id`` is the URL it was finally served from (``.url``), which may differ from
    ``url`` after redirects or an id re-fetch (rule 30). Raises
    :class:`~fedi.net.errors.FetchError` subclasses only.
    """
    auth = await instance_actor_auth(ctx, session)
    return await ctx.client.fetch_json(url, auth=auth, budget=budget)


async def store_actor(
    session: AsyncSession, parsed: ParsedActor, *, now: datetime, local_domain: str
) -> Actor:
    """Insert or update the row of a validated remote actor (in the caller's transaction).

    Refuses (:class:`ActorDocumentError`) an actor on our own domain, an id held by a local actor,
    and a key id already held by another actor: two actors must never share a key.
    """
    if parsed.domain == local_domain:
        raise ActorDocumentError("actor is on this instance")
    actor = await session.scalar(select(Actor).where(Actor.uri == parsed.uri))
    if actor is not None and actor.local:
        raise ActorDocumentError("actor id belongs to a local actor")
    key_ids = [k for k in (parsed.public_key_id, parsed.ed25519_key_id) if k is not None]
    if key_ids:
        holder = await session.scalar(
            select(Actor.id).where(
                Actor.uri != parsed.uri,
                or_(Actor.public_key_id.in_(key_ids), Actor.ed25519_key_id.in_(key_ids)),
            )
        )
        if holder is not None:
            raise ActorDocumentError("key id belongs to another actor")
    # (username, domain) is unique: an account deleted and re-created under the same name has a
    # new id. The stale row keeps its history under a name that cannot collide.
    stale = await session.scalar(
        select(Actor).where(
            Actor.username == parsed.username,
            Actor.domain == parsed.domain,
            Actor.uri != parsed.uri,
        )
    )
    if stale is not None:
        stale.username = f"{stale.username[:200]}~{stale.id}"
        await session.flush()
    if actor is None:
        actor = Actor(uri=parsed.uri)
        session.add(actor)
    parsed.apply_to(actor)
    actor.fetched_at = now
    await session.flush()
    await store_expert_profile(session, actor, parsed.document)
    await session.flush()
    return actor


async def fetch_actor(
    ctx: InstanceContext,
    uri: str,
    *,
    budget: FetchBudget,
    session: AsyncSession | None = None,
) -> Actor:
    """Fetch the actor at ``uri`` (signed GET), validate it and upsert its row.

    With ``session`` the row is written in that session and not committed (the caller decides);
    without, a session of ``ctx`` is opened and committed. Raises
    :class:`~fedi.net.errors.FetchError` when the fetch fails and :class:`ActorDocumentError`
    when the document is not a valid actor.
    """
    if session is None:
        async with ctx.sessions() as own:
            actor = await fetch_actor(ctx, uri, budget=budget, session=own)
            await own.commit()
            return actor
    fetched = await fetch_document(ctx, session, without_fragment(uri), budget=budget)
    # The id must be ``uri`` itself: a redirect to another actor is not the actor asked for.
    parsed = parse_actor_document(fetched.data, uri)
    return await store_actor(session, parsed, now=ctx.clock(), local_domain=ctx.settings.domain)


async def known_uris(session: AsyncSession, uris: list[str]) -> set[str]:
    """Those of ``uris`` that are actors we know."""
    return set((await session.scalars(select(Actor.uri).where(Actor.uri.in_(uris)))).all())


def split_handle(handle: str) -> tuple[str, str]:
    """``@user@host`` (or ``user@host``, ``acct:user@host``) → ``(user, host)``; host normalised.

    Raises :class:`~fedi.net.errors.BadUrl` for anything else.
    """
    match = _HANDLE.match(handle.strip().removeprefix("acct:"))
    if match is None:
        raise BadUrl("not a handle of the form @user@host")
    user, host = match.groups()
    name, _, port = host.partition(":")
    normalized = normalize_host(name)
    if port and not port.isdigit():
        raise BadUrl("bad port")
    return user, f"{normalized}:{port}" if port else normalized


async def webfinger_actor_uri(ctx: InstanceContext, handle: str, *, budget: FetchBudget) -> str:
    """Resolve ``@user@host`` to the actor id through the host's WebFinger endpoint.

    https, or http when the instance allows private addresses (tests run peers on plain http
    loopback). The ``self`` link of type ``application/activity+json`` (or ``ld+json`` with the
    ActivityStreams profile) names the actor. Raises :class:`~fedi.net.errors.FetchError`.
    """
    user, host = split_handle(handle)
    scheme = "http" if ctx.settings.allow_private_addresses else "https"
    url = httpx.URL(
        f"{scheme}://{host}/.well-known/webfinger", params={"resource": f"acct:{user}@{host}"}
    )
    fetched = await ctx.client.fetch_json(
        str(url), accept=JSON_ACCEPT, expect_activitystreams=False, budget=budget
    )
    links = fetched.data.get("links")
    for link in links if isinstance(links, list) else []:
        if not isinstance(link, dict) or link.get("rel") != "self":
            continue
        media = str(link.get("type", "")).split(";", 1)[0].strip().lower()
        href = link.get("href")
        if media in _AS2_LINK_TYPES and isinstance(href, str):
            return href
    raise BadDocument("webfinger has no ActivityPub self link")


async def actor_by_handle(
    ctx: InstanceContext, handle: str, *, budget: FetchBudget | None = None
) -> Actor:
    """The remote actor named ``@user@host``: WebFinger, then :func:`fetch_actor` (committed).

    Raises :class:`~fedi.net.errors.FetchError` or :class:`ActorDocumentError`.
    """
    spend = budget if budget is not None else FetchBudget()
    uri = await webfinger_actor_uri(ctx, handle, budget=spend)
    return await fetch_actor(ctx, uri, budget=spend)


# Key resolution for incoming signatures ---------------------------------------------------------
#
# A ``keyId`` is answered from the cached actor that publishes it; an unknown one is fetched: the
# ``keyId`` URL (fragment stripped) serves either the actor itself (Mastodon, Lemmy, Misskey:
# ``.../users/alice#main-key``) or a key document naming its ``owner``/``controller``
# (GoToSocial-style ``.../main-key``); then the owner must list the key (SECURITY.md rule 15).
# The resolver holds no database session: each look-up opens a short one and closes it before
# anything is fetched, so a slow key server holds no connection. A fetched actor is kept in memory
# (``ActorKeyResolver.fetched``) and stored by the caller with what it accepts, so no key is cached
# from a failed verification. First-contact fetches take a slot of ``InstanceContext.key_fetches``
# (per host and in total); with none free the resolver raises :class:`KeyFetchBusy`.
# Key rotation: ``refresh`` re-fetches a cached key within a small per-host budget
# (``InstanceContext.key_refetches``), so forged signatures naming a real key cannot make us
# hammer its host, while a peer's burst of activities after a rotation still gets through.


class KeyFetchBusy(Exception):
    """Every key-fetch slot for the key's host (or in all) is taken: try again later."""


@dataclass(frozen=True, slots=True)
class CachedKeys:
    """What the inbox reads of a cached remote actor's row: its id, domain and published keys,
    and whether it is suspended or deleted (cheaper to make than an ORM object)."""

    id: int
    uri: str
    domain: str
    public_key_id: str | None
    public_key_pem: str | None
    ed25519_key_id: str | None
    ed25519_public_multibase: str | None
    inactive: bool


KnownActor = Actor | CachedKeys
"""A cached signer, as an ORM row or as the inbox's :class:`CachedKeys`."""


def is_inactive(actor: KnownActor) -> bool:
    """Whether the actor is suspended or deleted (rule 22)."""
    if isinstance(actor, CachedKeys):
        return actor.inactive
    return actor.suspended_at is not None or actor.deleted_at is not None


def public_key_of(actor: KnownActor, key_id: str) -> ResolvedKey | None:
    """The key ``key_id`` as published by the cached ``actor``, or ``None``."""
    try:
        if key_id == actor.public_key_id and actor.public_key_pem:
            public_key = _load_pem(actor.public_key_pem)
        elif key_id == actor.ed25519_key_id and actor.ed25519_public_multibase:
            public_key = ed25519_public_key_from_multibase(actor.ed25519_public_multibase)
        else:
            return None
    except (KeyFormatError, ValueError):
        return None
    return ResolvedKey(key_id=key_id, owner=actor.uri, public_key=public_key)


@lru_cache(maxsize=4096)
def _load_pem(pem: str) -> PublicKey:
    # The inbox's hot path: parsing an RSA public key costs more than checking a signature.
    return load_public_key_pem(pem)


class ActorKeyResolver:
    """A :data:`fedi.crypto.KeyResolver` for one incoming request (see above).

    ``budget`` caps the fetches (rule 32); ``known`` is a cached actor the caller expects to be
    the signer (the inbox loads the activity's actor anyway), consulted before the database.
    After a successful call, either :attr:`actor` is the cached row of the key's owner, or
    :attr:`fetched` is the owner's fetched document, not stored yet.
    """

    def __init__(
        self, ctx: InstanceContext, *, budget: FetchBudget, known: KnownActor | None = None
    ) -> None:
        self.ctx = ctx
        self.known = known
        self.budget = budget
        self.actor: KnownActor | None = None
        self.fetched: ParsedActor | None = None
        self._fresh: set[str] = set()

    async def __call__(self, key_id: str, refresh: bool) -> ResolvedKey | None:
        if not refresh:
            known = self.known
            if known is not None and key_id in (known.public_key_id, known.ed25519_key_id):
                self.actor = known  # the caller has loaded the likely signer already
                return public_key_of(known, key_id)
            async with self.ctx.sessions() as session:
                cached = await session.scalar(
                    select(Actor).where(
                        Actor.local.is_(False),
                        or_(Actor.public_key_id == key_id, Actor.ed25519_key_id == key_id),
                    )
                )
            if cached is not None:
                self.actor = cached
                return public_key_of(cached, key_id)
        elif key_id in self._fresh or not self._may_refetch(key_id):
            # Fetched during this very request, or refetched from this host a moment ago.
            return None
        return await self._fetch(key_id)

    async def _fetch(self, key_id: str) -> ResolvedKey | None:
        self._fresh.add(key_id)
        try:
            host = host_of(key_id)
        except BadUrl:
            return None
        if host == self.ctx.settings.domain:
            return None  # never fetch from ourselves
        async with self.ctx.sessions() as session:
            if await domain_blocked(session, host):
                return None  # nor from a suspended domain
            auth = await instance_actor_auth(self.ctx, session)
        slots = self.ctx.key_fetches
        if not slots.acquire(host):
            raise KeyFetchBusy(host)
        try:
            parsed = await self._owner_document(key_id, auth)
            # Rule 15: whatever served the key, its owner must list it.
            if parsed is None or not parsed.lists_key(key_id):
                return None
            public_key = parsed.public_key(key_id)
            if public_key is None:
                return None
        except (FetchError, ActorDocumentError, KeyFormatError) as exc:
            log_event(_log, "key fetch failed", logging.INFO, host=host, reason=str(exc))
            return None
        finally:
            slots.release(host)
        self.actor, self.fetched = None, parsed
        return ResolvedKey(key_id=key_id, owner=parsed.uri, public_key=public_key)

    async def _owner_document(self, key_id: str, auth: httpx.Auth | None) -> ParsedActor | None:
        client = self.ctx.client
        fetched = await client.fetch_json(without_fragment(key_id), auth=auth, budget=self.budget)
        if actor_type_of(fetched.data) is not None:
            return parse_actor_document(fetched.data, fetched.url)
        # A key document: {"id": keyId, "owner": actor, "publicKeyPem": ...}. Its material is not
        # used; only the owner's own listing counts.
        owner = first_id(fetched.data.get("owner")) or first_id(fetched.data.get("controller"))
        if owner is None:
            return None
        owner_url = without_fragment(owner)
        document = await client.fetch_json(owner_url, auth=auth, budget=self.budget)
        return parse_actor_document(document.data, owner_url)

    def _may_refetch(self, key_id: str) -> bool:
        """Whether the key's host may be asked again now (a per-host token bucket)."""
        try:
            host = host_of(key_id)
        except BadUrl:
            return False
        return self.ctx.key_refetches.allow(host, self.ctx.clock())
