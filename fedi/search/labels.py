"""Cross-language matching: the vocabulary labels a query's words spell, in any language.

Each label of a theme, objective or target group (in every language its vocabulary file
carries) and each country's name (in the 24 EU languages, from Babel's CLDR data) is read as a
sequence of reduced words. A query whose words contain such a sequence matches the code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from fedi.search.text import EU_LANGUAGES, reduce, words
from fedi.vocabulary import vocabulary

__all__ = ["Label", "LabelMatch", "label_matches", "labels", "load_labels"]

VOCABULARIES = ("themes", "objectives", "target-groups", "countries")


@dataclass(frozen=True, slots=True)
class Label:
    vocabulary: str
    code: str
    language: str
    text: str
    forms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LabelMatch:
    """Query words ``start``..``end`` (exclusive) spell ``label``."""

    label: Label
    start: int
    end: int


def _label(name: str, code: str, language: str, text: str) -> Label:
    forms = tuple(reduce(word, language) for word in words(text))
    return Label(name, code, language, text, forms)


@cache
def labels() -> tuple[Label, ...]:
    """Every label, read once."""
    from babel import Locale

    found: dict[tuple[str, str, tuple[str, ...]], Label] = {}
    for name in VOCABULARIES:
        for term in vocabulary(name).terms:
            texts = dict(term.labels)
            if name == "countries":
                for language in EU_LANGUAGES:
                    territory = Locale.parse(language).territories.get(term.code)
                    if territory:
                        texts.setdefault(language, territory)
            for language, text in texts.items():
                label = _label(name, term.code, language, text)
                if label.forms:
                    found.setdefault((name, term.code, label.forms), label)
    return tuple(found.values())


@cache
def _by_first_form() -> dict[str, tuple[Label, ...]]:
    index: dict[str, list[Label]] = {}
    for label in labels():
        index.setdefault(label.forms[0], []).append(label)
    return {form: tuple(found) for form, found in index.items()}


def load_labels() -> None:
    """Read every label and index it now."""
    _by_first_form()


def label_matches(query_forms: Sequence[frozenset[str]]) -> list[LabelMatch]:
    """The labels spelled by consecutive query words, each word given as the set of forms it may
    take; the longest label first where several start at one word."""
    first = _by_first_form()
    matches: list[LabelMatch] = []
    for start, forms in enumerate(query_forms):
        candidates = {label for form in forms for label in first.get(form, ())}
        for label in sorted(candidates, key=lambda found: -len(found.forms)):
            end = start + len(label.forms)
            if end <= len(query_forms) and all(
                label.forms[offset] in query_forms[start + offset]
                for offset in range(len(label.forms))
            ):
                matches.append(LabelMatch(label, start, end))
    return matches
