"""Actors, local and remote: people, groups (network, forums) and the instance actor."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Enum, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fedi.db.models.base import Base, utcnow

__all__ = ["Actor", "ActorType"]


class ActorType(enum.StrEnum):
    PERSON = "Person"
    GROUP = "Group"
    APPLICATION = "Application"
    SERVICE = "Service"
    ORGANIZATION = "Organization"


class Actor(Base):
    """An ActivityPub actor. Local actors hold their private keys; remote ones a cached document."""

    __tablename__ = "actors"
    __table_args__ = (
        UniqueConstraint("username", "domain", name="uq_actors_username_domain"),
        Index("ix_actors_domain", "domain"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    type: Mapped[ActorType] = mapped_column(
        Enum(
            ActorType, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e]
        )
    )
    local: Mapped[bool] = mapped_column(Boolean, default=False)
    username: Mapped[str] = mapped_column(String(255))
    domain: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(255), default="")
    # Local actors: plain text as an admin wrote it (sent as HTML); remote ones: HTML as received.
    summary: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(String(2048))
    inbox: Mapped[str] = mapped_column(String(2048))
    outbox: Mapped[str | None] = mapped_column(String(2048))
    shared_inbox: Mapped[str | None] = mapped_column(String(2048))
    followers_url: Mapped[str | None] = mapped_column(String(2048))
    following_url: Mapped[str | None] = mapped_column(String(2048))
    manually_approves_followers: Mapped[bool] = mapped_column(Boolean, default=False)
    indexable: Mapped[bool] = mapped_column(Boolean, default=True)
    # RSA key for draft-cavage signatures (Mastodon and most peers).
    public_key_id: Mapped[str | None] = mapped_column(String(2048), unique=True)
    public_key_pem: Mapped[str | None] = mapped_column(Text)
    private_key_pem: Mapped[str | None] = mapped_column(Text)
    # Ed25519 key published as a Multikey under assertionMethod (FEP-521a).
    ed25519_key_id: Mapped[str | None] = mapped_column(String(2048))
    ed25519_public_multibase: Mapped[str | None] = mapped_column(String(128))
    ed25519_private_pem: Mapped[str | None] = mapped_column(Text)
    document: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    fetched_at: Mapped[datetime | None]
    suspended_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
