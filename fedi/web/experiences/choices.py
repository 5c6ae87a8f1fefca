"""The vocabularies an experience's form and filters offer, labelled in the reader's language."""

from __future__ import annotations

from dataclasses import dataclass

from fedi.content.experiences.fields import KINDS, PROGRAMME_PERIODS
from fedi.vocabulary import vocabulary
from fedi.web.ui import i18n

__all__ = ["Choices", "choices", "kind_label"]


@dataclass(frozen=True)
class Choices:
    kinds: list[tuple[str, str]]
    languages: list[tuple[str, str]]
    countries: list[tuple[str, str]]
    objectives: list[tuple[str, str]]
    themes: list[tuple[str, str]]
    target_groups: list[tuple[str, str]]
    periods: list[tuple[str, str]]

    def label(self, name: str, code: str | None) -> str:
        pairs: list[tuple[str, str]] = getattr(self, name)
        return dict(pairs).get(code or "", code or "")


def kind_label(kind: str) -> str:
    return i18n.gettext("Resource") if kind == "resource" else i18n.gettext("Experience")


def _terms(name: str, locale: str) -> list[tuple[str, str]]:
    return [(term.code, term.label(locale)) for term in vocabulary(name).terms]


def choices() -> Choices:
    locale = i18n.current_locale()
    return Choices(
        kinds=[(kind, kind_label(kind)) for kind in KINDS],
        languages=_terms("languages", locale),
        countries=sorted(_terms("countries", locale), key=lambda item: item[1]),
        objectives=[(code, f"{code}) {label}") for code, label in _terms("objectives", locale)],
        themes=_terms("themes", locale),
        target_groups=_terms("target-groups", locale),
        periods=[(period, period) for period in PROGRAMME_PERIODS],
    )
