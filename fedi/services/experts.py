"""The directory of experts: discoverable people with a profile, of this instance and of others.

Local members are listed when they are discoverable (``indexable``) and have a profile with
some expertise, organisation, country or language; remote ``Person`` actors when they are
discoverable, their document carried a profile
(:func:`fedi.actors.expertise.store_expert_profile`) and their domain is not blocked. Filters
are codes of the vocabularies (checked: an unknown code is a
:class:`~fedi.errors.ValidationError`) and free text matched against the name, the handle, the
organisation and the bio. Experts are ordered by name; a page is an offset into that order.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.actors.expertise import ProfileTerms, profile_terms_of
from fedi.blocks.service import block_candidates
from fedi.db.models import Actor, ActorType, DomainBlock, ExpertProfile, Member, Profile
from fedi.db.paging import Keyset
from fedi.errors import NotFoundError, ValidationError
from fedi.vocabulary import vocabulary

__all__ = ["MAX_QUERY", "Expert", "ExpertFilters", "find_expert", "list_experts"]

MAX_QUERY = 200


@dataclass(frozen=True)
class ExpertFilters:
    """What the directory is narrowed to; ``None`` or an empty string is no filter."""

    q: str = ""
    theme: str | None = None
    objective: str | None = None
    country: str | None = None
    language: str | None = None

    def checked(self) -> ExpertFilters:
        """The filters with every code checked (aliases resolved); one error per bad field."""
        errors: dict[str, list[str]] = {}
        values: dict[str, str | None] = {}
        for field, vocab in (
            ("theme", "themes"),
            ("objective", "objectives"),
            ("country", "countries"),
            ("language", "languages"),
        ):
            value = getattr(self, field)
            if not value:
                values[field] = None
                continue
            try:
                values[field] = vocabulary(vocab).check(value, field)
            except ValidationError as exc:
                errors.update(exc.errors)
        if len(self.q) > MAX_QUERY:
            errors["q"] = [f"at most {MAX_QUERY} characters"]
        if errors:
            first = next(iter(errors))
            raise ValidationError(f"{first}: {errors[first][0]}", errors=errors)
        return ExpertFilters(q=self.q.strip(), **values)


@dataclass(frozen=True)
class Expert:
    """One entry of the directory."""

    actor: Actor
    profile: ProfileTerms

    @property
    def handle(self) -> str:
        return f"@{self.actor.username}@{self.actor.domain}"

    @property
    def name(self) -> str:
        return self.actor.display_name or self.actor.username

    @property
    def url(self) -> str:
        return self.actor.url or self.actor.uri


def _matches(expert: Expert, filters: ExpertFilters) -> bool:
    profile = expert.profile
    if filters.theme and filters.theme not in profile.themes:
        return False
    if filters.objective and filters.objective not in profile.objectives:
        return False
    if filters.country and filters.country != profile.country:
        return False
    if filters.language and filters.language not in profile.languages:
        return False
    if filters.q:
        text = " ".join(
            (expert.name, expert.handle, profile.organisation, expert.actor.summary)
        ).casefold()
        return all(word in text for word in filters.q.casefold().split())
    return True


# Who may be listed at all: a discoverable person, neither suspended nor deleted.
_LISTED = (
    Actor.indexable.is_(True),
    Actor.type == ActorType.PERSON,
    Actor.suspended_at.is_(None),
    Actor.deleted_at.is_(None),
)


async def _all_experts(session: AsyncSession, *which: ColumnElement[bool]) -> list[Expert]:
    local = await session.execute(
        select(Actor, Profile)
        .join(Member, Member.actor_id == Actor.id)
        .join(Profile, Profile.member_id == Member.id)
        .where(Actor.local.is_(True), *_LISTED, *which)
    )
    remote = await session.execute(
        select(Actor, ExpertProfile)
        .join(ExpertProfile, ExpertProfile.actor_id == Actor.id)
        .where(Actor.local.is_(False), *_LISTED, *which)
    )
    # A blocked domain (suspended or silenced) is kept out of the directory, as out of search.
    blocked = set((await session.scalars(select(DomainBlock.domain))).all())
    experts = [Expert(actor, profile_terms_of(row)) for actor, row in local.all()]
    experts += [
        Expert(actor, profile_terms_of(row))
        for actor, row in remote.all()
        if blocked.isdisjoint(block_candidates(actor.domain))
    ]
    return [expert for expert in experts if not expert.profile.empty]


async def list_experts(
    session: AsyncSession, filters: ExpertFilters, *, limit: int = 20, offset: int = 0
) -> Keyset[Expert]:
    """One page of the experts ``filters`` select (checked here), ordered by name; the page's
    ``next_before`` is the offset of the next page."""
    checked = filters.checked()
    found = [expert for expert in await _all_experts(session) if _matches(expert, checked)]
    found.sort(key=lambda expert: (expert.name.casefold(), expert.handle))
    rows = found[offset : offset + limit]
    more = offset + limit < len(found)
    return Keyset(rows=rows, total=len(found), next_before=offset + limit if more else None)


async def find_expert(session: AsyncSession, ident: str) -> Expert:
    """The expert of the directory ``ident`` names: their id (the actor's URI, as the API
    gives it) or their handle (``@name@host`` or ``name@host``); NotFoundError for anyone
    else, someone not discoverable or of a blocked domain included."""
    ident = ident.strip()
    if not ident or len(ident) > 2048 or not ident.isprintable():
        raise NotFoundError("no such expert")
    if ident.startswith(("https://", "http://")):
        which: ColumnElement[bool] = Actor.uri == ident
    else:
        name, _, host = ident.removeprefix("@").partition("@")
        if not name or not host or "@" in host:
            raise NotFoundError("no such expert")
        which = and_(Actor.username == name, Actor.domain == host.lower())
    found = await _all_experts(session, which)
    if len(found) != 1:
        raise NotFoundError("no such expert")
    return found[0]
