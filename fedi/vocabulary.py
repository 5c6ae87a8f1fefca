"""Controlled vocabularies, read from ``schemas/vocabularies/`` (encoded once, as data).

Every list of DOMAIN.md is one JSON file of the same shape (``items`` with a stable ``code`` and
``label`` in English and Polish (themes and target groups also in Italian, German, French and
Spanish), optional ``group``, ``native`` and ``aliases``), read through
:func:`vocabulary`. A :class:`Vocabulary` gives its codes, the label of a code in a locale, and
checks input against its codes, naming the field and the allowed values when it refuses.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from fedi.errors import NotFoundError, ValidationError
from fedi.resources import schemas_dir

__all__ = [
    "DEFAULT_LOCALE",
    "LOCALES",
    "VOCABULARY_NAMES",
    "Term",
    "UnknownVocabulary",
    "Vocabulary",
    "country_codes",
    "country_label",
    "normalise_country",
    "vocabulary",
]

# Every list carries labels in these locales; any other locale reads the English ones.
LOCALES = ("en", "pl")
DEFAULT_LOCALE = "en"

VOCABULARY_NAMES = (
    "countries",
    "objectives",
    "themes",
    "equal-pillars",
    "organisation-types",
    "target-groups",
    "languages",
    "cooperation-kinds",
    "partner-roles",
    "offer-purposes",
    "offer-levels",
)


class UnknownVocabulary(NotFoundError):
    """No vocabulary has that name."""


@dataclass(frozen=True, slots=True)
class Term:
    """One entry of a vocabulary: its code, its labels by locale, and optional extras."""

    code: str
    labels: Mapping[str, str]
    group: str | None = None
    # Languages only: the language named in itself.
    native: str | None = None

    def label(self, locale: str = DEFAULT_LOCALE) -> str:
        return self.labels.get(locale, self.labels[DEFAULT_LOCALE])


@dataclass(frozen=True, slots=True)
class Vocabulary:
    name: str
    description: str
    terms: tuple[Term, ...]
    # Other spellings accepted on input (EU usage ``EL`` for Greece) and the code they stand for.
    aliases: Mapping[str, str]

    @property
    def codes(self) -> tuple[str, ...]:
        """The codes in their documented order."""
        return tuple(term.code for term in self.terms)

    def term(self, code: str) -> Term:
        for term in self.terms:
            if term.code == code:
                return term
        raise KeyError(code)

    def label(self, code: str, locale: str = DEFAULT_LOCALE) -> str:
        return self.term(code).label(locale)

    def normalise(self, value: str) -> str | None:
        """The code ``value`` stands for (case aside, aliases resolved), or ``None``."""
        folded = value.strip().casefold()
        for alias, code in self.aliases.items():
            if alias.casefold() == folded:
                folded = code.casefold()
        for code in self.codes:
            if code.casefold() == folded:
                return code
        return None

    def check(self, value: object, field: str) -> str:
        """The code ``value`` is, exactly or as an alias (``EL``); a :class:`ValidationError` on
        ``field`` naming the allowed values when it is neither. Input through the API and forms
        is checked here; :meth:`normalise` is the lenient reading of configuration."""
        code = self.aliases.get(value, value) if isinstance(value, str) else None
        if code not in self.codes:
            raise ValidationError(
                f"{value!r} is not a known code; allowed values: {', '.join(self.codes)}",
                field=field,
            )
        assert isinstance(code, str)
        return code

    def check_all(self, values: object, field: str) -> list[str]:
        """A list of codes, each checked, without repeats, in the order given."""
        if not isinstance(values, list):
            raise ValidationError("must be a list of codes", field=field)
        return list(dict.fromkeys(self.check(value, field) for value in values))


def _terms(items: Iterable[dict[str, Any]]) -> tuple[Term, ...]:
    return tuple(
        Term(
            code=item["code"],
            labels=dict(item["label"]),
            group=item.get("group"),
            native=item.get("native"),
        )
        for item in items
    )


@cache
def vocabulary(name: str) -> Vocabulary:
    """The vocabulary ``name`` (one of :data:`VOCABULARY_NAMES`), read once."""
    if name not in VOCABULARY_NAMES:
        raise UnknownVocabulary(f"no vocabulary {name!r}")
    path = schemas_dir() / "vocabularies" / f"{name}.json"
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    aliases = dict(document.get("aliases", {}))
    return Vocabulary(name, document["$comment"], _terms(document["items"]), aliases)


def country_codes() -> frozenset[str]:
    """Every accepted country code (ISO 3166-1 alpha-2, Greece as ``GR``)."""
    return frozenset(vocabulary("countries").codes)


def normalise_country(value: str) -> str:
    """Upper-case a code and map EU usage (``EL``) to ISO (``GR``)."""
    return vocabulary("countries").normalise(value) or value.strip().upper()


def country_label(code: str, language: str = DEFAULT_LOCALE) -> str:
    return vocabulary("countries").label(code, language)
