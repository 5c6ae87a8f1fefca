"""Members: people with a login on this instance, each backed by a local ``Person`` actor."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fedi.db.models.actor import Actor
from fedi.db.models.base import Base, utcnow

__all__ = ["ApiToken", "Member", "Role"]


class Role(enum.StrEnum):
    ADMIN = "admin"
    MODERATOR = "moderator"
    MEMBER = "member"


class Member(Base):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), unique=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]),
        default=Role.MEMBER,
    )
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # The interface language the member last chose while signed in (``None``: never chose;
    # e-mails then use the instance's ``FEDI_LANGUAGE``).
    locale: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    actor: Mapped[Actor] = relationship(lazy="joined")


class ApiToken(Base):
    """A bearer token for ActivityPub client-to-server publishing; only its hash is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    label: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
