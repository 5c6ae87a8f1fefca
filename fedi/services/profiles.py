"""A member's profile: read it, and change it with every code checked against the vocabularies.

The name, the bio and whether the member is discoverable live on the member's ``Person`` actor
(``display_name``, ``summary``, ``indexable``); a change to any of them federates as an
``Update`` of that actor. The rest (organisation, country, languages, expertise, the private
e-mail address for notifications) is kept in :class:`fedi.db.models.Profile`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.errors import HeaderParseError
from email.headerregistry import Address

from sqlalchemy.ext.asyncio import AsyncSession

from fedi.db.models import Actor, Member, Profile
from fedi.errors import ValidationError
from fedi.services.publishing import publish_actor_update
from fedi.settings import Settings
from fedi.vocabulary import vocabulary

__all__ = ["MAX_BIO", "MAX_NAME", "PROFILE_FIELDS", "ProfileData", "get_profile", "update_profile"]

MAX_NAME = 255
MAX_BIO = 5000
PROFILE_FIELDS = (
    "display_name",
    "organisation",
    "organisation_type",
    "country",
    "languages",
    "expertise",
    "bio",
    "discoverable",
    "email",
)


@dataclass(frozen=True)
class ProfileData:
    """What a member's profile says, as plain values (the web layer renders it)."""

    actor: Actor
    display_name: str
    organisation: str
    organisation_type: str | None
    country: str | None
    languages: list[str]
    themes: list[str]
    objectives: list[str]
    bio: str
    discoverable: bool
    email: str | None = field(default=None, repr=False)


async def _row(session: AsyncSession, member: Member) -> Profile:
    row = await session.get(Profile, member.id)
    if row is None:
        row = Profile(member_id=member.id, organisation="", languages=[], themes=[], objectives=[])
        session.add(row)
    return row


def _data(member: Member, row: Profile | None) -> ProfileData:
    actor = member.actor
    return ProfileData(
        actor=actor,
        display_name=actor.display_name,
        organisation=row.organisation if row else "",
        organisation_type=row.organisation_type if row else None,
        country=row.country if row else None,
        languages=list(row.languages) if row else [],
        themes=list(row.themes) if row else [],
        objectives=list(row.objectives) if row else [],
        bio=actor.summary,
        discoverable=actor.indexable,
        email=row.email if row else None,
    )


async def get_profile(session: AsyncSession, member: Member) -> ProfileData:
    return _data(member, await session.get(Profile, member.id))


def _text(value: object, limit: int, *, multiline: bool = False) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a string")
    if len(value) > limit:
        raise ValueError(f"at most {limit} characters")
    text = value.replace("\r\n", "\n").replace("\r", "\n") if multiline else value
    text = text.strip()
    allowed = "\n\t" if multiline else ""
    if any(unicodedata.category(c) == "Cc" and c not in allowed for c in text):
        raise ValueError(
            "must not contain control characters" + ("" if multiline else " or line breaks")
        )
    return text


def _email(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 320:
        raise ValueError("must be an e-mail address")
    try:
        address = Address(addr_spec=value.strip())
    except (HeaderParseError, ValueError, IndexError):
        raise ValueError("must be an e-mail address such as anna@example.org") from None
    if not address.username or "." not in address.domain:
        raise ValueError("must be an e-mail address such as anna@example.org")
    return address.addr_spec


class _Changes:
    """Collects checked values and every error, so that one answer names every bad field."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def take(self, name: str, check: object) -> None:
        self.errors.setdefault(name, []).append(str(check))


def _code(name: str, vocab: str, value: object, changes: _Changes) -> str | None:
    if value is None:
        return None
    try:
        return vocabulary(vocab).check(value, name)
    except ValidationError as exc:
        changes.errors.update(exc.errors)
        return None


def _codes(name: str, vocab: str, value: object, changes: _Changes) -> list[str]:
    try:
        return vocabulary(vocab).check_all(value, name)
    except ValidationError as exc:
        changes.errors.update(exc.errors)
        return []


async def update_profile(
    session: AsyncSession, settings: Settings, member: Member, patch: Mapping[str, object]
) -> ProfileData:
    """Apply the fields of ``patch`` (a JSON merge of the profile); every bad field is named in
    one :class:`ValidationError`, and then nothing changes."""
    changes = _Changes()
    for name in patch:
        if name not in PROFILE_FIELDS:
            changes.take(name, f"unknown field; the profile has {', '.join(PROFILE_FIELDS)}")
    values: dict[str, object] = {}
    for name, limit, multiline in (
        ("display_name", MAX_NAME, False),
        ("organisation", MAX_NAME, False),
        ("bio", MAX_BIO, True),
    ):
        if name in patch:
            try:
                values[name] = _text(patch[name], limit, multiline=multiline)
            except ValueError as exc:
                changes.take(name, exc)
    if "organisation_type" in patch:
        values["organisation_type"] = _code(
            "organisation_type", "organisation-types", patch["organisation_type"], changes
        )
    if "country" in patch:
        values["country"] = _code("country", "countries", patch["country"], changes)
    if "languages" in patch:
        values["languages"] = _codes("languages", "languages", patch["languages"], changes)
    if "expertise" in patch:
        expertise = patch["expertise"]
        if not isinstance(expertise, dict):
            changes.take("expertise", "must be an object with themes and objectives")
        else:
            for key in expertise:
                if key not in ("themes", "objectives"):
                    changes.take(f"expertise.{key}", "unknown field; use themes or objectives")
            for key in ("themes", "objectives"):
                if key in expertise:
                    values[key] = _codes(f"expertise.{key}", key, expertise[key], changes)
    if "discoverable" in patch:
        if isinstance(patch["discoverable"], bool):
            values["discoverable"] = patch["discoverable"]
        else:
            changes.take("discoverable", "must be true or false")
    if "email" in patch:
        try:
            values["email"] = _email(patch["email"])
        except ValueError as exc:
            changes.take("email", exc)
    if changes.errors:
        first = next(iter(changes.errors))
        raise ValidationError(f"{first}: {changes.errors[first][0]}", errors=changes.errors)
    actor = member.actor
    federated = False
    if "display_name" in values and values["display_name"] != actor.display_name:
        actor.display_name = str(values["display_name"])
        federated = True
    if "bio" in values and values["bio"] != actor.summary:
        actor.summary = str(values["bio"])
        federated = True
    if "discoverable" in values and values["discoverable"] != actor.indexable:
        actor.indexable = bool(values["discoverable"])
        federated = True
    row = await _row(session, member)
    for name in (
        "organisation",
        "organisation_type",
        "country",
        "languages",
        "themes",
        "objectives",
        "email",
    ):
        if name in values:
            setattr(row, name, values[name])
    await session.flush()
    if federated:
        await publish_actor_update(session, settings, actor)
    return _data(member, row)
