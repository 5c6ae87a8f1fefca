"""Forum threads: what a thread has beyond its ``Page`` in ``objects`` (its forum, its replies'
count, its last activity, its accepted answer), and which replies belong to which thread."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from fedi.db.models.base import Base, utcnow

__all__ = ["Thread", "ThreadReply"]


class Thread(Base):
    """One row per thread of a local forum; the first post (texts, author, addressing, document)
    is the ``objects`` row ``object_id``, written by :mod:`fedi.content.service`.

    ``last_activity`` is kept by :mod:`fedi.content.threads` as replies join, so that a forum's
    list is ordered without reading the replies (which are counted from ``thread_replies``, so
    that a deleted reply no longer counts); ``solution_id`` is the reply marked as the accepted
    answer. ``locked_at`` is when a moderator closed it to new replies, ``pinned_at`` when one
    pinned it above the others (the forum's ``featured`` collection), ``None`` otherwise.
    """

    __tablename__ = "threads"
    __table_args__ = (Index("ix_threads_forum_id_last_activity", "forum_id", "last_activity"),)

    object_id: Mapped[int] = mapped_column(
        ForeignKey("objects.id", ondelete="CASCADE"), primary_key=True
    )
    forum_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    last_activity: Mapped[datetime] = mapped_column(default=utcnow)
    solution_id: Mapped[int | None] = mapped_column(ForeignKey("objects.id", ondelete="SET NULL"))
    locked_at: Mapped[datetime | None]
    pinned_at: Mapped[datetime | None]


class ThreadReply(Base):
    """A reply (an ``objects`` row, local or received) that belongs to the thread ``thread_id``,
    whichever post of the thread it answers."""

    __tablename__ = "thread_replies"
    __table_args__ = (Index("ix_thread_replies_thread_id_object_id", "thread_id", "object_id"),)

    object_id: Mapped[int] = mapped_column(
        ForeignKey("objects.id", ondelete="CASCADE"), primary_key=True
    )
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.object_id", ondelete="CASCADE"))
