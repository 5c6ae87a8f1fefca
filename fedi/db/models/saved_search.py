"""A member's saved partner search: its parameters, and the secret of its feed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fedi.db.models.base import Base, utcnow

__all__ = ["SavedSearch"]


class SavedSearch(Base):
    """``query`` holds the search's parameters as given (name to its values), read again by
    the search's own reader each time; ``feed_key`` is the unguessable part of its feed's
    address, so that a feed reader needs no sign-in and nobody else finds it."""

    __tablename__ = "saved_searches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(Text)
    query: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
    feed_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
