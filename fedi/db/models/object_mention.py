"""Actors a content object mentions, read from its AS2 ``tag`` (``Mention``)."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from fedi.db.models.base import Base

__all__ = ["ObjectMention"]


class ObjectMention(Base):
    __tablename__ = "object_mentions"

    id: Mapped[int] = mapped_column(primary_key=True)
    object_id: Mapped[int] = mapped_column(ForeignKey("objects.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    actor_uri: Mapped[str] = mapped_column(String(2048), index=True)
    name: Mapped[str | None] = mapped_column(String(512))
