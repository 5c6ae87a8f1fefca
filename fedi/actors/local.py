"""Local actors: their URIs, derived from the base URL, which local groups are forums, their keys,
and the two every instance has (instance and network).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.crypto import keys
from fedi.db.models import Actor, ActorType
from fedi.errors import ValidationError
from fedi.settings import Settings

__all__ = ["INSTANCE_ACTOR_USERNAME", "LocalActorUrls", "is_forum"]

INSTANCE_ACTOR_USERNAME = "instance.actor"


@dataclass(frozen=True)
class LocalActorUrls:
    """The URIs of a local actor, all derived from the instance's base URL."""

    id: str

    @classmethod
    def for_actor(cls, settings: Settings, actor_type: ActorType, username: str) -> LocalActorUrls:
        if username == INSTANCE_ACTOR_USERNAME:
            return cls(f"{settings.base_url}/actor")
        segment = "groups" if actor_type is ActorType.GROUP else "users"
        return cls(f"{settings.base_url}/{segment}/{username}")

    @property
    def inbox(self) -> str:
        return f"{self.id}/inbox"

    @property
    def outbox(self) -> str:
        return f"{self.id}/outbox"

    @property
    def followers(self) -> str:
        return f"{self.id}/followers"

    @property
    def following(self) -> str:
        return f"{self.id}/following"

    @property
    def moderators(self) -> str:
        """A forum's moderators collection, named by its ``attributedTo`` (FEP-1b12)."""
        return f"{self.id}/moderators"

    @property
    def featured(self) -> str:
        """A forum's pinned threads, named by its ``featured`` (Lemmy, Mbin, Mastodon)."""
        return f"{self.id}/featured"

    @property
    def rsa_key_id(self) -> str:
        return f"{self.id}#main-key"

    @property
    def ed25519_key_id(self) -> str:
        return f"{self.id}#ed25519-key"


def is_forum(actor: Actor, settings: Settings) -> bool:
    """Whether ``actor`` is one of this instance's thematic forums: a local ``Group`` other than
    the network group."""
    return (
        actor.local
        and actor.type is ActorType.GROUP
        and actor.domain == settings.domain
        and actor.username != settings.network_handle
    )


__all__ = [
    "INSTANCE_ACTOR_USERNAME",
    "LocalActorUrls",
    "create_local_actor",
    "ensure_instance_actors",
    "is_forum",
    "served_actor",
    "validate_username",
    "webfinger_actor",
]

_USERNAME = re.compile(r"^[a-z0-9_]{1,30}$")


def validate_username(username: str) -> str:
    name = username.strip().lower()
    if not _USERNAME.match(name):
        raise ValidationError(f"{username!r}: use 1-30 lower-case letters, digits or underscores")
    return name


def create_local_actor(
    settings: Settings,
    actor_type: ActorType,
    username: str,
    display_name: str = "",
    summary: str = "",
    *,
    key_pair: tuple[RSAPrivateKey, Ed25519PrivateKey] | None = None,
    manual: bool = False,
) -> Actor:
    """A new local actor (not yet added to a session) with fresh RSA-2048 and Ed25519 keys, or
    with ``key_pair`` (tests pass fixed keys). ``manual``: followers wait for approval."""
    urls = LocalActorUrls.for_actor(settings, actor_type, username)
    rsa_key, ed_key = key_pair or (keys.generate_rsa_key(), keys.generate_ed25519_key())
    return Actor(
        uri=urls.id,
        type=actor_type,
        local=True,
        username=username,
        domain=settings.domain,
        display_name=display_name or username,
        summary=summary,
        url=urls.id,
        inbox=urls.inbox,
        outbox=urls.outbox,
        shared_inbox=f"{settings.base_url}/inbox",
        followers_url=urls.followers,
        following_url=urls.following,
        manually_approves_followers=manual,
        indexable=True,
        public_key_id=urls.rsa_key_id,
        public_key_pem=keys.dump_public_key_pem(rsa_key.public_key()),
        private_key_pem=keys.dump_private_key_pem(rsa_key),
        ed25519_key_id=urls.ed25519_key_id,
        ed25519_public_multibase=keys.ed25519_public_key_to_multibase(ed_key.public_key()),
        ed25519_private_pem=keys.dump_private_key_pem(ed_key),
    )


async def local_actor(session: AsyncSession, settings: Settings, username: str) -> Actor | None:
    return await session.scalar(
        select(Actor).where(
            Actor.local.is_(True), Actor.domain == settings.domain, Actor.username == username
        )
    )


async def served_actor(
    session: AsyncSession, settings: Settings, username: str, *, group: bool
) -> Actor | None:
    """The local actor served at ``username``, not deleted, a group or not as ``group`` says."""
    actor = await session.scalar(
        select(Actor).where(
            Actor.local.is_(True),
            Actor.domain == settings.domain,
            Actor.username == username,
            Actor.deleted_at.is_(None),
        )
    )
    if actor is None or (actor.type is ActorType.GROUP) != group:
        return None
    return actor


async def webfinger_actor(
    session: AsyncSession, *, username: str | None, uri: str | None
) -> Actor | None:
    """The local actor, not deleted, by username when one is given, else by URI."""
    query = select(Actor).where(Actor.local.is_(True), Actor.deleted_at.is_(None))
    query = query.where(Actor.username == username if username else Actor.uri == uri)
    return await session.scalar(query)


async def ensure_instance_actors(session: AsyncSession, settings: Settings) -> None:
    """Create the instance actor (FEP-2677) and the network group when they do not exist yet."""
    wanted = (
        (ActorType.APPLICATION, INSTANCE_ACTOR_USERNAME, settings.instance_name),
        (ActorType.GROUP, settings.network_handle, settings.instance_name),
    )
    for actor_type, username, display_name in wanted:
        if await local_actor(session, settings, username) is None:
            session.add(create_local_actor(settings, actor_type, username, display_name))
    await session.flush()
