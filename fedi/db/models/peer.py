"""Remote hosts we talk to (health, circuit breaker), and domain blocks."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Enum, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fedi.db.models.base import Base, utcnow

__all__ = ["BlockSeverity", "DomainBlock", "Peer"]


class Peer(Base):
    """A remote host. ``partner`` marks another instance of ours peered with this one (``fedi peer
    add``): our instance actor follows its network group (``network_uri``), its offers are
    replicated here, and the worker re-reads its offers collection at ``next_sync_at``."""

    __tablename__ = "peers"

    id: Mapped[int] = mapped_column(primary_key=True)
    host: Mapped[str] = mapped_column(String(255), unique=True)
    base_url: Mapped[str | None] = mapped_column(String(2048))
    software: Mapped[str | None] = mapped_column(String(128))
    version: Mapped[str | None] = mapped_column(String(64))
    partner: Mapped[bool] = mapped_column(Boolean, default=False)
    available: Mapped[bool] = mapped_column(Boolean, default=True)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    first_failure_at: Mapped[datetime | None]
    circuit_open_until: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    network_uri: Mapped[str | None] = mapped_column(String(2048))
    peered_at: Mapped[datetime | None]
    synced_at: Mapped[datetime | None]
    next_sync_at: Mapped[datetime | None]
    # Why the last synchronisation failed (``None`` after a successful one).
    sync_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BlockSeverity(enum.StrEnum):
    SUSPEND = "suspend"  # refuse everything from the domain and send nothing to it
    SILENCE = "silence"  # accept, but keep out of public timelines and search


class DomainBlock(Base):
    __tablename__ = "domain_blocks"

    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(String(255), unique=True)
    severity: Mapped[BlockSeverity] = mapped_column(
        Enum(
            BlockSeverity,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
