"""Expressions of interest in partner offers, and the answers exchanged about them.

Each row is one direct message (a ``Note``) between an offer's owner and someone interested in
the offer, sent from here or received: ``parent_id`` is empty for the expression of interest
itself and names it for every answer. Nothing here is public, searched or announced.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fedi.db.models.base import Base, utcnow

__all__ = ["InterestMessage"]


class InterestMessage(Base):
    """One interest message: who sent it to whom, about which offer, from which organisation."""

    __tablename__ = "interest_messages"
    __table_args__ = (
        Index("ix_interest_messages_sender_id_created_at", "sender_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    offer_uri: Mapped[str] = mapped_column(String(2048), index=True)
    # The offer's title when the message was written, for lists that outlive the offer.
    offer_title: Mapped[str] = mapped_column(Text, default="")
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("interest_messages.id", ondelete="CASCADE"), index=True
    )
    sender_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    recipient_id: Mapped[int] = mapped_column(
        ForeignKey("actors.id", ondelete="CASCADE"), index=True
    )
    organisation_name: Mapped[str] = mapped_column(Text, default="")
    organisation_type: Mapped[str | None] = mapped_column(String(64))
    organisation_country: Mapped[str | None] = mapped_column(String(2))
    message: Mapped[str] = mapped_column(Text)
    local: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
