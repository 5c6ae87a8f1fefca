"""What a forum has beyond its ``Group`` actor: whether it is archived."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from fedi.db.models.base import Base, utcnow

__all__ = ["Forum"]


class Forum(Base):
    """One row per local forum, keyed to its ``Group`` actor.

    An archived forum (``archived_at`` set) stays readable and followable but takes no new
    threads. A forum created before this table existed has no row and is open.
    """

    __tablename__ = "forums"

    actor_id: Mapped[int] = mapped_column(
        ForeignKey("actors.id", ondelete="CASCADE"), primary_key=True
    )
    archived_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
