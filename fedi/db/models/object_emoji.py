"""Custom emoji of a content object (Mastodon, Misskey and Pleroma ``Emoji`` in ``tag``)."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from fedi.db.models.base import Base

__all__ = ["ObjectEmoji"]


class ObjectEmoji(Base):
    __tablename__ = "object_emojis"

    id: Mapped[int] = mapped_column(primary_key=True)
    object_id: Mapped[int] = mapped_column(ForeignKey("objects.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    shortcode: Mapped[str] = mapped_column(String(256))
    icon_url: Mapped[str] = mapped_column(String(2048))
    media_type: Mapped[str | None] = mapped_column(String(128))
