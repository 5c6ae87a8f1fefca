"""What the administrators say about their instance, kept in a table of one row."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fedi.db.models.base import Base, utcnow

__all__ = ["InstanceSettings"]


class InstanceSettings(Base):
    """The instance's name, description and rules, and whether new partner offers wait for a
    moderator's validation. Until an administrator saves them there is no row and the name
    comes from ``FEDI_INSTANCE_NAME``."""

    __tablename__ = "instance_settings"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False, default=1)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    rules: Mapped[str] = mapped_column(Text, default="")
    offers_need_validation: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
