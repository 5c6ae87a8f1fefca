"""Experiences: the structured fields of a local ``Article`` (an experience write-up or a
resource for people starting a project), kept beside its row in ``objects``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fedi.db.models.base import Base, utcnow

__all__ = ["Experience", "ExperienceCode"]


class Experience(Base):
    """One row per experience; the object itself (texts, author, addressing, document) is the
    ``objects`` row ``object_id``, written by :mod:`fedi.content.service`.

    ``versions`` holds every language's ``title``, ``summary`` and ``body`` (Markdown), keyed by
    language tag; ``language`` marks the original. Codes (country, objectives, themes, target
    groups) come from the vocabularies and are checked by :mod:`fedi.content.experiences` before
    they are written; the lists are repeated in :class:`ExperienceCode` for filtering.
    """

    __tablename__ = "experiences"
    __table_args__ = (Index("ix_experiences_kind_published", "kind", "published"),)

    object_id: Mapped[int] = mapped_column(
        ForeignKey("objects.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(16))
    versions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    country: Mapped[str | None] = mapped_column(String(2), index=True)
    objectives: Mapped[list[str]] = mapped_column(JSON, default=list)
    themes: Mapped[list[str]] = mapped_column(JSON, default=list)
    target_groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    programme_period: Mapped[str | None] = mapped_column(String(16))
    organisation: Mapped[str] = mapped_column(String(255), default="")
    results: Mapped[str] = mapped_column(Text, default="")
    transferability: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Copied from the object so that lists are ordered and paged without a join on the sort key.
    published: Mapped[datetime] = mapped_column(default=utcnow)


class ExperienceCode(Base):
    """One vocabulary code of an experience (``field`` is ``objective``, ``theme`` or
    ``target_group``) or one of its hashtags (``tag``, case-folded), so that a list filtered by
    either is one indexed lookup on both databases."""

    __tablename__ = "experience_codes"
    __table_args__ = (Index("ix_experience_codes_field_code", "field", "code"),)

    experience_id: Mapped[int] = mapped_column(
        ForeignKey("experiences.object_id", ondelete="CASCADE"), primary_key=True
    )
    field: Mapped[str] = mapped_column(String(16), primary_key=True)
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
