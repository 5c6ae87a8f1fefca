"""Whether the instance federates only with the domains on its allowlist (one row at most)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean
from sqlalchemy.orm import Mapped, mapped_column

from fedi.db.models.base import Base, utcnow

__all__ = ["FederationMode"]


class FederationMode(Base):
    """The single row (``id`` 1); no row means open federation."""

    __tablename__ = "federation_mode"

    id: Mapped[int] = mapped_column(primary_key=True)
    allowlist_only: Mapped[bool] = mapped_column(Boolean, default=False)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
