"""The experience list's filters read from a query string, for the list page and its feeds alike."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from fedi.content.experiences.fields import KINDS
from fedi.content.experiences.service import ExperienceFilters
from fedi.web.experiences.choices import choices

__all__ = ["FILTERS", "ListQuery", "read_filters"]

FILTERS = ("q", "country", "objective", "theme", "target_group", "kind", "tag")
MAX_VALUE = 200


@dataclass(frozen=True)
class ListQuery:
    """What a query string asks of the list.

    ``values`` holds every filter as the form shows it (``""`` when unset or unknown);
    ``unknown`` names the filters whose code no list has: the page ignores them (its form offers
    only known codes), a feed refuses them."""

    filters: ExperienceFilters
    values: dict[str, str]
    unknown: tuple[str, ...]

    @property
    def query(self) -> dict[str, str]:
        """The filters in force, to carry into a link (the next page, a feed)."""
        return {name: value for name, value in self.values.items() if value}


def _printable(value: str) -> str:
    return "".join(c for c in value if ord(c) >= 32)


def read_filters(params: Mapping[str, str]) -> ListQuery:
    # Control characters (a NUL, a line break) are no part of a filter: the search box drops them.
    found = {name: _printable(params.get(name, "")).strip()[:MAX_VALUE] for name in FILTERS}
    options = choices()
    allowed: dict[str, dict[str, str | None]] = {
        "country": dict(options.countries),
        "objective": dict(options.objectives),
        "theme": dict(options.themes),
        "target_group": dict(options.target_groups),
        "kind": dict.fromkeys(KINDS, None),
    }
    unknown = tuple(
        name for name, codes in allowed.items() if found[name] and found[name] not in codes
    )
    for name in unknown:
        found[name] = ""
    given = {name: value or None for name, value in found.items()}
    filters = ExperienceFilters(
        q=given["q"],
        country=given["country"],
        objective=given["objective"],
        theme=given["theme"],
        target_group=given["target_group"],
        kind=given["kind"],
        tag=given["tag"],
    )
    return ListQuery(filters, found, unknown)
