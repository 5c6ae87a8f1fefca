"""The instance's own identity: the base URL its data belongs to, kept in a table of one row."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from fedi.db.models.base import Base, utcnow

__all__ = ["InstanceIdentity"]


class InstanceIdentity(Base):
    """Every actor, key id and object id of the database starts with ``base_url``; an instance
    started with another ``FEDI_BASE_URL`` would mint identities nobody can reach."""

    __tablename__ = "instance_identity"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False, default=1)
    base_url: Mapped[str] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
