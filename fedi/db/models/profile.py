"""A member's profile beyond the name and bio: organisation, country, languages, expertise."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from fedi.db.models.base import Base, utcnow

__all__ = ["ExpertProfile", "Profile"]


class Profile(Base):
    """One row per member who has edited their profile; the name, the bio and whether the member
    is discoverable live on the actor (``display_name``, ``summary``, ``indexable``).

    Codes (organisation type, country, languages, themes, objectives) come from the
    vocabularies and are checked by :mod:`fedi.services.profiles` before they are written.
    """

    __tablename__ = "profiles"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    organisation: Mapped[str] = mapped_column(String(255), default="")
    organisation_type: Mapped[str | None] = mapped_column(String(64))
    country: Mapped[str | None] = mapped_column(String(2))
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    themes: Mapped[list[str]] = mapped_column(JSON, default=list)
    objectives: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Private: where notifications are e-mailed (never federated, never shown to others).
    email: Mapped[str | None] = mapped_column(String(320))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ExpertProfile(Base):
    """The profile a discoverable remote ``Person`` carries in its document (our terms), kept
    for the directory of experts; codes are those of our vocabularies, unknown ones dropped.
    Written by :func:`fedi.actors.expertise.store_expert_profile` each time the actor is stored."""

    __tablename__ = "expert_profiles"

    actor_id: Mapped[int] = mapped_column(
        ForeignKey("actors.id", ondelete="CASCADE"), primary_key=True
    )
    organisation: Mapped[str] = mapped_column(String(255), default="")
    organisation_type: Mapped[str | None] = mapped_column(String(64))
    country: Mapped[str | None] = mapped_column(String(2))
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    themes: Mapped[list[str]] = mapped_column(JSON, default=list)
    objectives: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
