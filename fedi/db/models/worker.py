"""Worker processes that are running (or were, until their heartbeat stopped)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from fedi.db.models.base import Base, utcnow

__all__ = ["WorkerProcess"]


class WorkerProcess(Base):
    """One running worker. It refreshes ``heartbeat_at`` every few seconds; the deliveries it
    leases name it (``deliveries.leased_by``), and become claimable by others as soon as its
    heartbeat is stale or its row is gone. ``space`` names where ``pid`` means something (the
    host, its boot and its process namespace), so that a worker starting there can tell that a
    predecessor whose process no longer exists is dead without waiting for its heartbeat to age.
    """

    __tablename__ = "workers"
    # Ids are never reused (SQLite reuses the highest one otherwise): a lease names its worker.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    space: Mapped[str] = mapped_column(String(255), index=True)
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow)
