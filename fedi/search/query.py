"""A query reduced for the index: its words' forms in every plausible language, the vocabulary
labels they spell, and the code filters."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from fedi.search.labels import LabelMatch, label_matches
from fedi.search.text import EU_LANGUAGES, detect, query_forms, words

__all__ = ["SHORT_QUERY_WORDS", "Query", "plan"]

# A query of at most this many words is reduced in every EU language, whatever it looks like.
SHORT_QUERY_WORDS = 3


@dataclass(slots=True)
class Query:
    """A reduced query: one set of forms per text word, the labels it spells, the codes wanted."""

    groups: list[frozenset[str]] = field(default_factory=list)
    spans: list[tuple[list[frozenset[str]], LabelMatch, list[LabelMatch]]] = field(
        default_factory=list
    )
    filters: list[frozenset[str]] = field(default_factory=list)

    @property
    def all_forms(self) -> frozenset[str]:
        forms = set().union(*self.groups) if self.groups else set()
        for span_groups, _first, _all in self.spans:
            forms.update(*span_groups)
        return frozenset(forms)

    @property
    def wanted_codes(self) -> frozenset[str]:
        codes = {m.label.code for _g, _f, found in self.spans for m in found}
        return frozenset(codes.union(*self.filters) if self.filters else codes)


def _languages(q: str, ui_language: str | None) -> list[str]:
    if len(words(q)) <= SHORT_QUERY_WORDS:
        return list(EU_LANGUAGES)
    chosen = [detect(q)]
    if ui_language in EU_LANGUAGES and ui_language not in chosen:
        chosen.append(ui_language)
    return chosen


def plan(
    q: str, *, ui_language: str | None = None, filters: Sequence[Collection[str]] = ()
) -> Query:
    """The reduced form of query text ``q`` and code ``filters`` (each a set of codes of which a
    document must have one)."""
    languages = _languages(q, ui_language)
    forms = [query_forms(word, languages) for word in words(q)]
    matches = label_matches(forms)
    query = Query(filters=[frozenset(group) for group in filters if group])
    position = 0
    while position < len(forms):
        starting = [m for m in matches if m.start == position]
        if starting:
            longest = max(starting, key=lambda m: m.end)
            same = [m for m in matches if m.start == position and m.end == longest.end]
            query.spans.append((forms[position : longest.end], longest, same))
            position = longest.end
        else:
            query.groups.append(forms[position])
            position += 1
    return query
