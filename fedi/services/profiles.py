"""A member's profile: read it, and change it with every code checked against the vocabularies.

The name, the bio and whether the member is discoverable live on the member's ``Person`` actor
(``display_name``, ``summary``, ``indexable``); a change to any of them federates as an
``Update`` of that actor. The rest (organisation, country, languages, expertise, the private
e-mail address for notifications) is kept in :class:`fedi.db.models.Profile`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
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


def _text(field: str, value: object, limit: int, *, multiline: bool = False) -> str:
    if not isinstance(value, str):
        raise ValidationError("must be a string", field=field)
    if len(value) > limit:
        raise ValidationError(f"at most {limit} characters", field=field)
    text = value.replace("\r\n", "\n").replace("\r", "\n") if multiline else value
    allowed = "\n\t" if multiline else ""
    if any(unicodedata.category(c) == "Cc" and c not in allowed for c in text):
        message = "must not contain control characters"
        raise ValidationError(message if multiline else message + " or line breaks", field=field)
    return text.strip()


def _email(field: str, value: object) -> str | None:
    if value is None:
        return None
    wrong = ValidationError("must be an e-mail address such as anna@example.org", field=field)
    if not isinstance(value, str) or len(value) > 320:
        raise wrong
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") or c.isspace() for c in value):
        raise wrong
    try:
        address = Address(addr_spec=value)
    except (HeaderParseError, ValueError, IndexError):
        raise wrong from None
    if not address.username or "." not in address.domain:
        raise wrong
    return address.addr_spec


def _boolean(field: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ValidationError("must be true or false", field=field)
    return value


def _code(vocab: str) -> Callable[[str, object], str | None]:
    return lambda field, value: None if value is None else vocabulary(vocab).check(value, field)


def _codes(vocab: str) -> Callable[[str, object], list[str]]:
    return lambda field, value: vocabulary(vocab).check_all(value, field)


# Each field of the profile and how its new value is checked (raising ValidationError).
_CHECKS: dict[str, Callable[[str, object], object]] = {
    "display_name": lambda field, value: _text(field, value, MAX_NAME),
    "organisation": lambda field, value: _text(field, value, MAX_NAME),
    "organisation_type": _code("organisation-types"),
    "country": _code("countries"),
    "languages": _codes("languages"),
    "bio": lambda field, value: _text(field, value, MAX_BIO, multiline=True),
    "discoverable": _boolean,
    "email": _email,
    "expertise.themes": _codes("themes"),
    "expertise.objectives": _codes("objectives"),
}


def _flatten(patch: Mapping[str, object], errors: dict[str, list[str]]) -> dict[str, object]:
    """The patch with ``expertise`` spread into ``expertise.themes`` and ``.objectives``."""
    flat = {name: value for name, value in patch.items() if name != "expertise"}
    if "expertise" in patch:
        expertise = patch["expertise"]
        if not isinstance(expertise, dict):
            errors["expertise"] = ["must be an object with themes and objectives"]
        else:
            flat.update({f"expertise.{key}": value for key, value in expertise.items()})
    return flat


def _checked(patch: Mapping[str, object]) -> dict[str, object]:
    """Every value of ``patch`` checked; one :class:`ValidationError` naming every bad field."""
    errors: dict[str, list[str]] = {}
    values: dict[str, object] = {}
    for name, value in _flatten(patch, errors).items():
        check = _CHECKS.get(name)
        if check is None:
            known = (
                "expertise has themes and objectives"
                if name.startswith("expertise.")
                else f"the profile has {', '.join(PROFILE_FIELDS)}"
            )
            errors[name] = [f"unknown field; {known}"]
            continue
        try:
            values[name] = check(name, value)
        except ValidationError as exc:
            for field, messages in exc.errors.items():
                errors.setdefault(field, []).extend(messages)
    if errors:
        first = next(iter(errors))
        raise ValidationError(f"{first}: {errors[first][0]}", errors=errors)
    return values


async def update_profile(
    session: AsyncSession, settings: Settings, member: Member, patch: Mapping[str, object]
) -> ProfileData:
    """Apply the fields of ``patch`` (a JSON merge of the profile); every bad field is named in
    one :class:`ValidationError`, and then nothing changes."""
    values = _checked(patch)
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
    for name, column in (
        ("organisation", "organisation"),
        ("organisation_type", "organisation_type"),
        ("country", "country"),
        ("languages", "languages"),
        ("expertise.themes", "themes"),
        ("expertise.objectives", "objectives"),
        ("email", "email"),
    ):
        if name in values:
            if column != "email" and getattr(row, column) != values[name] and actor.indexable:
                federated = True  # a discoverable member's Person carries the profile
            setattr(row, column, values[name])
    await session.flush()
    if federated:
        await publish_actor_update(session, settings, actor)
    return _data(member, row)
