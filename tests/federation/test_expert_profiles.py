"""A remote Person's profile terms are kept when it is discoverable, checked against the
vocabularies, and forgotten when it stops being discoverable."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.actors.document import parse_actor_document
from fedi.actors.expertise import read_profile_terms
from fedi.actors.remote import store_actor
from fedi.cli.common import run_in_session
from fedi.db.models import ExpertProfile
from fedi.settings import Settings
from fedi.testing.keys import FIXED_NOW
from fedi.testing.peers import alice

PROFILE = {
    "organisation": "  Cooperativa Sociale  ",
    "organisationType": "ngo-civil-society",
    "country": "IT",
    "workingLanguages": ["it", "xx", "en", "it"],
    "themes": ["social-inclusion", "no-such-theme"],
    "esfObjectives": "h",
}


def _document(**changes: Any) -> dict[str, Any]:
    document = alice().document() | PROFILE
    document.update(changes)
    return {key: value for key, value in document.items() if value is not None}


def test_unknown_codes_and_malformed_values_are_dropped() -> None:
    terms = read_profile_terms(_document(organisationType=7, country="Italy"))
    assert terms.organisation == "Cooperativa Sociale"
    assert terms.organisation_type is None and terms.country is None
    assert terms.languages == ("it", "en")
    assert terms.themes == ("social-inclusion",)
    assert terms.objectives == ("h",)
    assert read_profile_terms(alice().document()).empty


def _store(settings: Settings, document: dict[str, Any]) -> ExpertProfile | None:
    async def work(session: AsyncSession) -> ExpertProfile | None:
        parsed = parse_actor_document(document, document["id"])
        actor = await store_actor(session, parsed, now=FIXED_NOW, local_domain=settings.domain)
        await session.flush()
        return await session.get(ExpertProfile, actor.id)

    return run_in_session(settings, work)


def _count(settings: Settings) -> int:
    async def work(session: AsyncSession) -> int:
        return int(await session.scalar(select(func.count()).select_from(ExpertProfile)) or 0)

    return run_in_session(settings, work)


def test_a_discoverable_person_keeps_its_profile_until_it_stops_being_discoverable(
    settings: Settings,
) -> None:
    row = _store(settings, _document())
    assert row is not None
    assert (row.organisation, row.country) == ("Cooperativa Sociale", "IT")
    assert row.languages == ["it", "en"]
    assert row.themes == ["social-inclusion"] and row.objectives == ["h"]
    # An Update with other codes replaces them.
    row = _store(settings, _document(country="MT", themes=["social-innovation"]))
    assert row is not None and (row.country, row.themes) == ("MT", ["social-innovation"])
    # Not discoverable any more: the profile is forgotten.
    assert _store(settings, _document(indexable=False)) is None
    assert _count(settings) == 0


def test_a_person_without_consent_or_terms_has_no_profile(settings: Settings) -> None:
    assert _store(settings, _document(indexable=None)) is None  # absent means no
    plain = alice().document()
    assert _store(settings, plain) is None
    assert _count(settings) == 0
