"""The partner search's parameters (docs/api.md), read the same way for the results page,
``GET /api/v1/offers/search`` and saved searches: each list parameter repeatable or
comma-separated, each code checked against its vocabulary, every fault gathered with its
parameter's name."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlsplit

from fedi.db.models import Offer
from fedi.errors import ValidationError
from fedi.vocabulary import vocabulary

__all__ = [
    "CODE_PARAMETERS",
    "SORTS",
    "STATUSES",
    "Bounds",
    "SearchParams",
    "filter_groups",
    "read_search",
    "search_query",
]

# Each code parameter and the vocabulary of its codes.
CODE_PARAMETERS = {
    "purpose": "offer-purposes",
    "level": "offer-levels",
    "cooperation": "cooperation-kinds",
    "country": "countries",
    "countries_sought": "countries",
    "objective": "objectives",
    "theme": "themes",
    "target_group": "target-groups",
    "organisation_type": "organisation-types",
    "role": "partner-roles",
    "language": "languages",
}
# The statuses a search may ask for (withdrawn offers are not kept in the index).
STATUSES = ("published", "filled", "expired")
MAX_QUERY = 200
SORTS = ("relevance", "deadline", "newest")
_HOST = re.compile(r"[a-z0-9.-]{1,253}(:[0-9]{1,5})?")


@dataclass(frozen=True, slots=True)
class Bounds:
    """What a search keeps besides codes: call deadlines from ``deadline_after`` to
    ``deadline_before`` (inclusive), validated offers only or unvalidated only, offers from the
    hosts of ``origins`` (none: any)."""

    deadline_after: date | None = None
    deadline_before: date | None = None
    validated: bool | None = None
    origins: frozenset[str] = frozenset()

    def keeps(self, offer: Offer, uri: str) -> bool:
        if self.deadline_after is not None and offer.call_deadline < self.deadline_after:
            return False
        if self.deadline_before is not None and offer.call_deadline > self.deadline_before:
            return False
        if self.validated is not None and offer.validated != self.validated:
            return False
        return not self.origins or (urlsplit(uri).hostname or "") in self.origins


def filter_groups(filters: Mapping[str, Collection[str]]) -> list[set[str]]:
    """The index's filter groups for ``filters`` (one code of each group wanted), ``status``
    ``published`` unless given."""
    wanted = {"status": ["published"], **{k: v for k, v in filters.items() if v}}
    return [{f"{name}:{code}" for code in codes} for name, codes in wanted.items()]


@dataclass(frozen=True, slots=True)
class SearchParams:
    q: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)
    bounds: Bounds = field(default_factory=Bounds)
    sort: str = "relevance"
    live: bool = False


def _values(params: Mapping[str, Sequence[str]], name: str) -> list[str]:
    found = (part.strip() for value in params.get(name, ()) for part in value.split(","))
    return [part for part in found if part]


def _one(params: Mapping[str, Sequence[str]], name: str) -> str:
    values = params.get(name, ())
    return values[-1].strip() if values else ""


def _day(text: str, name: str, errors: dict[str, list[str]]) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors[name] = ["must be a date (YYYY-MM-DD)"]
        return None


def _flag(text: str, name: str, errors: dict[str, list[str]]) -> bool | None:
    if text in ("", "any"):
        return None
    if text in ("true", "false"):
        return text == "true"
    errors[name] = ["must be true or false"]
    return None


def read_search(params: Mapping[str, Sequence[str]]) -> SearchParams:
    """The search ``params`` ask for (each name to its values as given; a parameter given
    empty is a fault, as the API's document says, and a form leaves its empty fields out
    first); a :class:`ValidationError` listing every parameter at fault."""
    errors: dict[str, list[str]] = {
        name: ["must not be empty"]
        for name, values in params.items()
        if name != "q" and any(not value.strip() for value in values)
    }
    filters: dict[str, list[str]] = {}
    for name, vocabulary_name in CODE_PARAMETERS.items():
        try:
            filters[name] = vocabulary(vocabulary_name).check_all(_values(params, name), name)
        except ValidationError as error:
            errors.update(error.errors)
    statuses = _values(params, "status")
    if any(status not in STATUSES for status in statuses):
        errors["status"] = [f"allowed values: {', '.join(STATUSES)}"]
    filters["status"] = statuses
    q = _one(params, "q")
    if len(q) > MAX_QUERY:
        errors["q"] = [f"must be at most {MAX_QUERY} characters"]
    elif any(ord(c) < 32 or 0xD800 <= ord(c) <= 0xDFFF for c in q):
        errors["q"] = ["must not contain control characters"]
    sort = _one(params, "sort") or "relevance"
    if sort not in SORTS:
        errors["sort"] = [f"allowed values: {', '.join(SORTS)}"]
    bounds = Bounds(
        deadline_after=_day(_one(params, "deadline_after"), "deadline_after", errors),
        deadline_before=_day(_one(params, "deadline_before"), "deadline_before", errors),
        validated=_flag(_one(params, "validated"), "validated", errors),
        origins=frozenset(value.lower() for value in _values(params, "origin")),
    )
    if any(not _HOST.fullmatch(origin) for origin in bounds.origins):
        errors["origin"] = ["must be host names (host or host:port)"]
    live = _flag(_one(params, "live"), "live", errors)
    if errors:
        first, messages = next(iter(errors.items()))
        raise ValidationError(f"{first}: {messages[0]}", errors=errors)
    return SearchParams(q, {k: v for k, v in filters.items() if v}, bounds, sort, bool(live))


def search_query(wanted: SearchParams) -> list[tuple[str, str]]:
    """The query parameters that :func:`read_search` reads back as ``wanted`` (without
    ``live``): what a live search asks each partner instance."""
    query = [("q", wanted.q)] if wanted.q else []
    query += [(name, ",".join(codes)) for name, codes in wanted.filters.items() if codes]
    bounds = wanted.bounds
    for name, day in (
        ("deadline_after", bounds.deadline_after),
        ("deadline_before", bounds.deadline_before),
    ):
        if day is not None:
            query.append((name, day.isoformat()))
    if bounds.validated is not None:
        query.append(("validated", "true" if bounds.validated else "false"))
    if bounds.origins:
        query.append(("origin", ",".join(sorted(bounds.origins))))
    if wanted.sort != "relevance":
        query.append(("sort", wanted.sort))
    return query
