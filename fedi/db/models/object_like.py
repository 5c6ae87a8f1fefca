"""Remote ``Like``s of local objects, counted as "found helpful"; an ``Undo`` removes its row."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fedi.db.models.base import Base, utcnow

__all__ = ["ObjectLike"]


class ObjectLike(Base):
    __tablename__ = "object_likes"
    __table_args__ = (UniqueConstraint("object_id", "actor_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    object_id: Mapped[int] = mapped_column(ForeignKey("objects.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), index=True)
    activity_uri: Mapped[str] = mapped_column(String(2048), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
