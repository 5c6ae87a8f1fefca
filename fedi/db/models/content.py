"""Content objects (notes, articles, pages) local and remote, and the activities that carry them."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Boolean, Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fedi.db.models.base import Base, utcnow

if TYPE_CHECKING:
    from fedi.db.models.object_attachment import ObjectAttachment
    from fedi.db.models.object_emoji import ObjectEmoji
    from fedi.db.models.object_mention import ObjectMention
    from fedi.db.models.object_tag import ObjectTag

__all__ = ["Activity", "ActivityState", "ContentObject"]


class ContentObject(Base):
    __tablename__ = "objects"
    __table_args__ = (
        Index("ix_objects_attributed_to_id_published", "attributed_to_id", "published"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    type: Mapped[str] = mapped_column(String(64))
    local: Mapped[bool] = mapped_column(Boolean, default=False)
    attributed_to_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    in_reply_to: Mapped[str | None] = mapped_column(String(2048), index=True)
    context: Mapped[str | None] = mapped_column(String(2048), index=True)
    audience: Mapped[str | None] = mapped_column(String(2048))
    url: Mapped[str | None] = mapped_column(String(2048))
    name: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text)
    content: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)
    source_media_type: Mapped[str | None] = mapped_column(String(128))
    language: Mapped[str | None] = mapped_column(String(16))
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # The content warning: ``summary`` of a Note from Mastodon, Misskey or Pleroma.
    content_warning: Mapped[str | None] = mapped_column(Text)
    # The object this one quotes (``quoteUrl``, ``_misskey_quote``, ``quoteUri``, FEP-e232).
    quote_of: Mapped[str | None] = mapped_column(String(2048))
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    published: Mapped[datetime] = mapped_column(default=utcnow)
    updated: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]

    # What the content service read from ``tag`` and ``attachment``. Loaded with every object
    # (one query per collection for all the objects of a query, never one per object), so that
    # pages show them and the service can replace them on a revision.
    tags: Mapped[list[ObjectTag]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ObjectTag.position"
    )
    mentions: Mapped[list[ObjectMention]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ObjectMention.position"
    )
    emojis: Mapped[list[ObjectEmoji]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ObjectEmoji.position"
    )
    attachments: Mapped[list[ObjectAttachment]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ObjectAttachment.position"
    )


class ActivityState(enum.StrEnum):
    RECEIVED = "received"
    PROCESSED = "processed"
    FAILED = "failed"
    SENT = "sent"


class Activity(Base):
    """An activity we sent (local) or received (remote), stored as received.

    Incoming activities are recorded by the inbox with state ``received`` and worked later; the
    unique ``uri`` is the de-duplication key.
    """

    __tablename__ = "activities"
    __table_args__ = (Index("ix_activities_state_id", "state", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    type: Mapped[str] = mapped_column(String(64))
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), index=True)
    object_uri: Mapped[str | None] = mapped_column(String(2048), index=True)
    local: Mapped[bool] = mapped_column(Boolean, default=False)
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[ActivityState] = mapped_column(
        Enum(
            ActivityState,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    # The id of the HTTP request that caused it (inbox POST, C2S POST), carried into the log
    # lines of the jobs that work it.
    request_id: Mapped[str | None] = mapped_column(String(64))
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]
