"""The domains an instance federates with when it is in allowlist-only mode."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from fedi.db.models.base import Base, utcnow

__all__ = ["AllowedDomain"]


class AllowedDomain(Base):
    """A domain on the allowlist; it covers its subdomains, as a domain block does."""

    __tablename__ = "federation_allowlist"

    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(String(255), unique=True)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
