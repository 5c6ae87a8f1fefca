"""Hashtags of a content object, read from its AS2 ``tag``: the name without ``#``, lowercased
and NFC-normalised, so that a search or a tag page finds every spelling of one tag."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from fedi.db.models.base import Base

__all__ = ["ObjectTag"]


class ObjectTag(Base):
    __tablename__ = "object_tags"
    __table_args__ = (Index("ix_object_tags_name_object_id", "name", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    object_id: Mapped[int] = mapped_column(ForeignKey("objects.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(256))
    href: Mapped[str | None] = mapped_column(String(2048))
