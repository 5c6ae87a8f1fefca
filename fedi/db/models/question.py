"""Questions asked of experts, and the answers exchanged about them.

Each row is one direct message (a ``Note``) between a member who asks and an expert of the
directory, sent from here or received: ``parent_id`` is empty for the question itself, which
alone has a subject, and names it for every answer. Nothing here is public, searched or
announced.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fedi.db.models.base import Base, utcnow

__all__ = ["ExpertQuestion"]


class ExpertQuestion(Base):
    """One message of a question's conversation: who sent it to whom, and what."""

    __tablename__ = "expert_questions"
    __table_args__ = (Index("ix_expert_questions_sender_id_created_at", "sender_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("expert_questions.id", ondelete="CASCADE"), index=True
    )
    sender_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    recipient_id: Mapped[int] = mapped_column(
        ForeignKey("actors.id", ondelete="CASCADE"), index=True
    )
    subject: Mapped[str] = mapped_column(Text, default="")
    message: Mapped[str] = mapped_column(Text)
    local: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
