"""Where local actors live: their URIs, derived from the base URL, and which local groups are
forums. Below the services, so that rendering and fetching can use them too."""

from __future__ import annotations

from dataclasses import dataclass

from fedi.db.models import Actor, ActorType
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
