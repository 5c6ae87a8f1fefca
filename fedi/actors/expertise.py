"""A member's profile (organisation, country, working languages, expertise) as it travels in a
``Person`` document, under our JSON-LD terms (:data:`PROFILE_CONTEXT`, documented in
docs/federation.md, "Member profiles").

:func:`profile_terms` writes the terms of a local member; :func:`read_profile_terms` reads them
back from any remote actor document, keeping only codes of our vocabularies.
:func:`federated_profile` is what a local member's document carries; :func:`store_expert_profile`
keeps what a remote actor's says.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.db.models import Actor, ActorType, ExpertProfile, Member, Profile
from fedi.vocabulary import vocabulary

__all__ = [
    "PROFILE_CONTEXT",
    "ProfileTerms",
    "federated_profile",
    "profile_terms",
    "profile_terms_of",
    "read_profile_terms",
    "store_expert_profile",
]

NAMESPACE = "https://schemas.transnationality.eu/ns#"
_MAX_ORGANISATION = 255


def _set(term: str) -> dict[str, str]:
    return {"@id": f"tn:{term}", "@container": "@set"}


# Our terms for a member's profile, one block of the Person's @context. The IRIs are those of the
# same terms in an offer's Page (fedi.partners.document), so one term means one thing.
PROFILE_CONTEXT: dict[str, Any] = {
    "tn": NAMESPACE,
    "organisation": "tn:organisation",
    "organisationType": "tn:organisationType",
    "country": "tn:country",
    "workingLanguages": _set("workingLanguages"),
    "themes": _set("themes"),
    "esfObjectives": _set("esfObjectives"),
}


@dataclass(frozen=True)
class ProfileTerms:
    """A profile as codes of the vocabularies (and the organisation's name, free text)."""

    organisation: str = ""
    organisation_type: str | None = None
    country: str | None = None
    languages: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()
    objectives: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (
            self.organisation
            or self.organisation_type
            or self.country
            or self.languages
            or self.themes
            or self.objectives
        )


def profile_terms(profile: ProfileTerms) -> dict[str, Any]:
    """The terms to merge into a ``Person`` document (only those with a value)."""
    terms: dict[str, Any] = {}
    if profile.organisation:
        terms["organisation"] = profile.organisation
    if profile.organisation_type:
        terms["organisationType"] = profile.organisation_type
    if profile.country:
        terms["country"] = profile.country
    for name, codes in (
        ("workingLanguages", profile.languages),
        ("themes", profile.themes),
        ("esfObjectives", profile.objectives),
    ):
        if codes:
            terms[name] = list(codes)
    return terms


def _code(vocab: str, value: Any) -> str | None:
    return value if isinstance(value, str) and value in vocabulary(vocab).codes else None


def _codes(vocab: str, value: Any) -> tuple[str, ...]:
    values = value if isinstance(value, list) else [value]
    known = vocabulary(vocab).codes
    return tuple(dict.fromkeys(v for v in values if isinstance(v, str) and v in known))


def read_profile_terms(document: dict[str, Any]) -> ProfileTerms:
    """The profile a remote actor document carries; unknown codes and malformed values are
    dropped (a peer's newer vocabulary must not make the whole actor unreadable)."""
    organisation = document.get("organisation")
    return ProfileTerms(
        organisation=organisation.strip()[:_MAX_ORGANISATION]
        if isinstance(organisation, str)
        else "",
        organisation_type=_code("organisation-types", document.get("organisationType")),
        country=_code("countries", document.get("country")),
        languages=_codes("languages", document.get("workingLanguages")),
        themes=_codes("themes", document.get("themes")),
        objectives=_codes("objectives", document.get("esfObjectives")),
    )


def profile_terms_of(row: Profile | ExpertProfile) -> ProfileTerms:
    """A stored profile as terms (a local member's never includes the e-mail address)."""
    return ProfileTerms(
        organisation=row.organisation or "",
        organisation_type=row.organisation_type,
        country=row.country,
        languages=tuple(row.languages or ()),
        themes=tuple(row.themes or ()),
        objectives=tuple(row.objectives or ()),
    )


async def federated_profile(session: AsyncSession, actor: Actor) -> ProfileTerms | None:
    """The profile a local member's ``Person`` document carries: only a discoverable member's,
    ``None`` for anyone else and for a member without a profile."""
    if not actor.local or actor.type is not ActorType.PERSON or not actor.indexable:
        return None
    row = await session.scalar(
        select(Profile)
        .join(Member, Member.id == Profile.member_id)
        .where(Member.actor_id == actor.id)
    )
    return None if row is None else profile_terms_of(row)


async def store_expert_profile(
    session: AsyncSession, actor: Actor, document: dict[str, Any]
) -> None:
    """Keep the profile of a remote ``Person`` that is discoverable and carries one; forget
    it otherwise (an actor that stops being discoverable leaves the directory)."""
    terms = read_profile_terms(document)
    if actor.type is not ActorType.PERSON or not actor.indexable or terms.empty:
        await session.execute(delete(ExpertProfile).where(ExpertProfile.actor_id == actor.id))
        return
    row = await session.get(ExpertProfile, actor.id)
    if row is None:
        row = ExpertProfile(actor_id=actor.id)
        session.add(row)
    row.organisation = terms.organisation
    row.organisation_type = terms.organisation_type
    row.country = terms.country
    row.languages = list(terms.languages)
    row.themes = list(terms.themes)
    row.objectives = list(terms.objectives)
