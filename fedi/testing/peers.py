"""Fake remote peers for inbox tests: actors with fixed keys, served by an ``httpx.MockTransport``.

:class:`FakePeers` answers the safe client's GETs for ``*.test`` hosts from a table of documents
(actors, key documents, objects, WebFinger), records every request, and can be told to redirect
or fail. :class:`FakeActor` signs requests the way Mastodon (draft-cavage) or Fedify (RFC 9421)
do, with the fixed keys of :mod:`fedi.testing.keys`. :func:`inbox_harness` builds one local
instance around them, reachable in-process through ``httpx.ASGITransport``. Test use only.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric import ed25519
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from fedi.actors.local import INSTANCE_ACTOR_USERNAME, create_local_actor
from fedi.crypto import (
    PrivateKey,
    dump_public_key_pem,
    ed25519_public_key_to_multibase,
    sign_cavage,
    sign_rfc9421,
)
from fedi.db.models import (
    Activity,
    Actor,
    ActorType,
    ContentObject,
    Delivery,
    Follow,
    FollowState,
    Peer,
)
from fedi.instance import InstanceContext, build_context
from fedi.instance import fetch_policy as instance_fetch_policy
from fedi.net.client import SafeClient
from fedi.settings import Settings
from fedi.testing.keys import (
    FIXED_NOW,
    alice_key,
    bob_key,
    cavage_test_private_key,
    rfc9421_ed25519_private_key,
    rotated_key,
)
from fedi.web.app import create_app

__all__ = [
    "AS2",
    "FakeActor",
    "FakePeers",
    "InboxHarness",
    "alice",
    "bob",
    "carol",
    "inbox_harness",
    "mallory",
    "note",
]

AS2 = "application/activity+json"
AS2_CONTEXT = "https://www.w3.org/ns/activitystreams"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


@dataclass
class FakeActor:
    """A remote actor at ``https://{host}/users/{username}`` holding ``key``.

    An RSA key is published as ``publicKey`` (``#main-key``); an Ed25519 key as a FEP-521a
    Multikey (``#ed25519-key``) unless ``pem_ed25519`` publishes it as a PEM ``publicKey``.
    ``separate_key_document`` serves the key at ``{id}/main-key`` as a key document naming its
    owner (GoToSocial-style) instead of a fragment of the actor.
    """

    host: str
    username: str
    key: PrivateKey
    type: str = "Person"
    pem_ed25519: bool = False
    separate_key_document: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def uri(self) -> str:
        return f"https://{self.host}/users/{self.username}"

    @property
    def inbox(self) -> str:
        return f"{self.uri}/inbox"

    @property
    def uses_multikey(self) -> bool:
        return isinstance(self.key, ed25519.Ed25519PrivateKey) and not self.pem_ed25519

    @property
    def key_id(self) -> str:
        if self.separate_key_document:
            return f"{self.uri}/main-key"
        return f"{self.uri}#ed25519-key" if self.uses_multikey else f"{self.uri}#main-key"

    @property
    def handle(self) -> str:
        return f"@{self.username}@{self.host}"

    def key_document(self) -> dict[str, Any]:
        return {
            "@context": "https://w3id.org/security/v1",
            "id": self.key_id,
            "type": "Key",
            "owner": self.uri,
            "publicKeyPem": dump_public_key_pem(self.key.public_key()),
        }

    def document(self) -> dict[str, Any]:
        """The actor as its server would serve it."""
        doc: dict[str, Any] = {
            "@context": [AS2_CONTEXT, "https://w3id.org/security/v1"],
            "id": self.uri,
            "type": self.type,
            "preferredUsername": self.username,
            "name": self.username.title(),
            "inbox": self.inbox,
            "outbox": f"{self.uri}/outbox",
            "followers": f"{self.uri}/followers",
            "following": f"{self.uri}/following",
            "endpoints": {"sharedInbox": f"https://{self.host}/inbox"},
            "manuallyApprovesFollowers": False,
            "indexable": True,
        }
        if self.uses_multikey:
            public = self.key.public_key()
            assert isinstance(public, ed25519.Ed25519PublicKey)
            doc["assertionMethod"] = [
                {
                    "id": self.key_id,
                    "type": "Multikey",
                    "controller": self.uri,
                    "publicKeyMultibase": ed25519_public_key_to_multibase(public),
                }
            ]
        else:
            key = self.key_document()
            del key["@context"]
            doc["publicKey"] = key
        return doc | self.extra

    def sign(
        self,
        method: str,
        url: str,
        body: bytes,
        *,
        now: datetime = FIXED_NOW,
        scheme: str = "draft-cavage",
        headers: Mapping[str, str] | None = None,
        key_id: str | None = None,
        key: PrivateKey | None = None,
    ) -> dict[str, str]:
        """The headers of a request signed as this actor (``key_id``/``key`` override them)."""
        base = dict(headers or {})
        signer = sign_rfc9421 if scheme == "rfc9421" else sign_cavage
        added = signer(method, url, base, body, key_id or self.key_id, key or self.key, now)
        return base | added


def alice() -> FakeActor:
    """A Mastodon-like person with an RSA key at ``#main-key``."""
    return FakeActor("alice.test", "alice", alice_key())


def bob() -> FakeActor:
    """A person with only an Ed25519 Multikey (FEP-521a)."""
    return FakeActor("bob.test", "bob", bob_key())


def carol() -> FakeActor:
    """Alice's neighbour, with her key in a separate key document (GoToSocial style)."""
    return FakeActor("alice.test", "carol", cavage_test_private_key(), separate_key_document=True)


def mallory() -> FakeActor:
    """An attacker on her own host, with an Ed25519 key published as a PEM."""
    return FakeActor("evil.test", "mallory", rfc9421_ed25519_private_key(), pem_ed25519=True)


def note(actor: FakeActor, name: str = "1", **extra: Any) -> dict[str, Any]:
    """A public Note by ``actor``, with an id on the actor's host."""
    return {
        "id": f"https://{actor.host}/notes/{name}",
        "type": "Note",
        "attributedTo": actor.uri,
        "content": f"<p>note {name}</p>",
        "to": [PUBLIC],
        "cc": [f"{actor.uri}/followers"],
        "published": "2024-05-01T11:00:00Z",
    } | extra


Responder = Callable[[httpx.Request], httpx.Response]


class FakePeers:
    """Remote hosts behind a ``MockTransport``: documents by URL (fragment stripped)."""

    def __init__(self) -> None:
        self.routes: dict[str, Responder] = {}
        self.requests: list[httpx.Request] = []

    def add(self, *actors: FakeActor) -> None:
        """Serve each actor (and its separate key document, if it has one)."""
        for actor in actors:
            self.serve(actor.uri, actor.document())
            if actor.separate_key_document:
                self.serve(actor.key_id, actor.key_document())

    def serve(self, url: str, document: Any, *, status: int = 200, content_type: str = AS2) -> None:
        body = json.dumps(document).encode()
        # A fresh stream per request: the safe client reads bodies as streams, once.
        self.routes[url.split("#", 1)[0]] = lambda _request: httpx.Response(
            status, stream=httpx.ByteStream(body), headers={"Content-Type": content_type}
        )

    def redirect(self, url: str, location: str) -> None:
        self.routes[url.split("#", 1)[0]] = lambda _request: httpx.Response(
            302, headers={"Location": location}
        )

    def remove(self, url: str) -> None:
        self.routes.pop(url.split("#", 1)[0], None)

    def fetched(self, host: str | None = None) -> list[str]:
        """URLs requested so far (optionally only on ``host``)."""
        return [str(r.url) for r in self.requests if host is None or r.url.host == host]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        url = str(request.url.copy_with(fragment=None))
        responder = self.routes.get(url)
        if responder is None:
            return httpx.Response(404, content=b"not found")
        return responder(request)

    def client(self, settings: Settings) -> SafeClient:
        """A safe client with ``settings``' policy whose network is this table."""
        return SafeClient(instance_fetch_policy(settings), transport=httpx.MockTransport(self))


def local_actor_row(
    settings: Settings, actor_type: ActorType, username: str, *, manual: bool = False
) -> Actor:
    """A local actor with fixed keys (no key generation in tests)."""
    return create_local_actor(
        settings, actor_type, username, key_pair=(rotated_key(), bob_key()), manual=manual
    )


def remote_actor_row(host: str, name: str, *, shared_inbox: bool = True) -> Actor:
    """A cached remote ``Person`` at ``https://host/users/name``, with ``https://host/inbox`` as
    its shared inbox unless ``shared_inbox`` is false."""
    return Actor(
        uri=f"https://{host}/users/{name}",
        type=ActorType.PERSON,
        local=False,
        username=name,
        domain=host,
        inbox=f"https://{host}/users/{name}/inbox",
        shared_inbox=f"https://{host}/inbox" if shared_inbox else None,
    )


async def add_remote_follower(
    session: AsyncSession,
    followed: Actor,
    host: str,
    name: str,
    *,
    shared_inbox: bool = True,
    state: FollowState = FollowState.ACCEPTED,
) -> Actor:
    """A remote actor ``name@host`` (see :func:`remote_actor_row`) following ``followed``;
    flushed, so both rows have ids."""
    remote = remote_actor_row(host, name, shared_inbox=shared_inbox)
    session.add(remote)
    await session.flush()
    session.add(
        Follow(
            uri=f"https://{host}/follows/{name}",
            follower_id=remote.id,
            followed_id=followed.id,
            state=state,
        )
    )
    await session.flush()
    return remote


@dataclass
class InboxHarness:
    """One local instance (clock fixed at ``FIXED_NOW``) with fake peers, reached in-process.

    Local actors: the instance actor, ``anna`` (a person who accepts followers), ``mia`` (a person
    who approves them by hand) and the ``forum`` group.
    """

    ctx: InstanceContext
    peers: FakePeers
    app: Starlette
    scheme: str = "draft-cavage"  # how :meth:`deliver` signs unless told
    warm: bool = False  # whether the peers' actors and keys were cached before the test

    @property
    def settings(self) -> Settings:
        return self.ctx.settings

    def url(self, path: str) -> str:
        return f"{self.settings.base_url}{path}"

    async def post(self, path: str, body: bytes, headers: Mapping[str, str]) -> httpx.Response:
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url=self.settings.base_url) as c:
            return await c.post(path, content=body, headers=dict(headers))

    async def deliver(
        self,
        actor: FakeActor,
        document: dict[str, Any],
        *,
        path: str = "/inbox",
        scheme: str | None = None,
        content_type: str = AS2,
    ) -> httpx.Response:
        """POST ``document`` to ``path``, signed by ``actor`` as a well-behaved server would."""
        body = json.dumps(document).encode()
        headers = actor.sign(
            "POST",
            self.url(path),
            body,
            now=self.ctx.clock(),
            scheme=scheme or self.scheme,
            headers={"Content-Type": content_type},
        )
        return await self.post(path, body, headers)

    async def counts(self) -> dict[str, int]:
        """Rows per table that an incoming request could change."""
        tables = {
            "activities": Activity,
            "actors": Actor,
            "objects": ContentObject,
            "follows": Follow,
            "deliveries": Delivery,
            "peers": Peer,
        }
        result: dict[str, int] = {}
        async with self.ctx.sessions() as session:
            for name, model in tables.items():
                result[name] = await session.scalar(select(func.count()).select_from(model)) or 0
        return result

    async def actor_row(self, uri: str) -> Actor | None:
        async with self.ctx.sessions() as session:
            return await session.scalar(select(Actor).where(Actor.uri == uri))

    async def aclose(self) -> None:
        await self.ctx.aclose()


async def inbox_harness(settings: Settings, peers: FakePeers | None = None) -> InboxHarness:
    """Build the harness over an already migrated database (see ``settings``)."""
    fake = peers or FakePeers()
    ctx = build_context(settings, client=fake.client(settings))
    ctx.clock = lambda: FIXED_NOW
    async with ctx.sessions() as session:
        session.add_all(
            [
                local_actor_row(settings, ActorType.APPLICATION, INSTANCE_ACTOR_USERNAME),
                local_actor_row(settings, ActorType.PERSON, "anna"),
                local_actor_row(settings, ActorType.PERSON, "mia", manual=True),
                local_actor_row(settings, ActorType.GROUP, "forum", manual=True),
            ]
        )
        await session.commit()
    # The production application, over this context (its lifespan is not run: the harness
    # closes the context itself).
    app = create_app(settings, context=ctx)
    return InboxHarness(ctx=ctx, peers=fake, app=app)
