"""Partner offers and requests: the structured fields of a ``Page`` kept in ``objects``.

An :class:`Offer` is keyed to its content object (local or replicated). Its list fields are rows
of :class:`OfferCode` (one per field and code), so that filters work the same on SQLite and
PostgreSQL; :class:`OfferChange` keeps the history of every change.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fedi.db.models.base import Base, utcnow

__all__ = ["Offer", "OfferChange", "OfferCode"]


class Offer(Base):
    __tablename__ = "offers"
    __table_args__ = (Index("ix_offers_status_expires", "status", "expires"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    object_id: Mapped[int] = mapped_column(
        ForeignKey("objects.id", ondelete="CASCADE"), unique=True
    )
    purpose: Mapped[str] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(16))
    # The language of title, summary and description; other languages in ``translations``
    # (language -> {"title", "summary", "description"}, each text as given, Markdown source).
    language: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    translations: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    organisation_name: Mapped[str] = mapped_column(Text)
    organisation_type: Mapped[str] = mapped_column(String(64))
    organisation_country: Mapped[str] = mapped_column(String(2), index=True)
    organisation_region: Mapped[str | None] = mapped_column(Text)
    organisation_city: Mapped[str | None] = mapped_column(Text)
    partners_needed: Mapped[int | None] = mapped_column(Integer)
    funding_programme: Mapped[str | None] = mapped_column(Text)
    funding_call_reference: Mapped[str | None] = mapped_column(Text)
    call_deadline: Mapped[date] = mapped_column(Date, index=True)
    planned_start: Mapped[date | None] = mapped_column(Date)
    duration_months: Mapped[int | None] = mapped_column(Integer)
    budget_min: Mapped[int | None] = mapped_column(Integer)
    budget_max: Mapped[int | None] = mapped_column(Integer)
    currency: Mapped[str | None] = mapped_column(String(3))
    last_minute: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16))
    expires: Mapped[date] = mapped_column(Date)
    awaiting_validation: Mapped[bool] = mapped_column(Boolean, default=False)
    validated: Mapped[bool] = mapped_column(Boolean, default=False)
    validated_by: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class OfferCode(Base):
    """One code of one list field of an offer (``themes`` / ``social-inclusion``)."""

    __tablename__ = "offer_codes"
    __table_args__ = (Index("ix_offer_codes_field_code", "field", "code"),)

    offer_id: Mapped[int] = mapped_column(
        ForeignKey("offers.id", ondelete="CASCADE"), primary_key=True
    )
    field: Mapped[str] = mapped_column(String(32), primary_key=True)
    code: Mapped[str] = mapped_column(String(128), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class OfferChange(Base):
    """One change of an offer: when, by whom, which fields, and the status before and after."""

    __tablename__ = "offer_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id", ondelete="CASCADE"), index=True)
    # The actor who made the change; ``None`` for the expiry job.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("actors.id", ondelete="SET NULL"))
    fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    status_from: Mapped[str | None] = mapped_column(String(16))
    status_to: Mapped[str | None] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(default=utcnow)
