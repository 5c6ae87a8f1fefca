"""The vocabularies an offer's form and page show, labelled in the reader's language."""

from __future__ import annotations

from dataclasses import dataclass

from fedi.vocabulary import vocabulary
from fedi.web.ui import i18n

__all__ = ["OfferChoices", "offer_choices", "status_label"]


@dataclass(frozen=True)
class OfferChoices:
    purposes: list[tuple[str, str]]
    levels: list[tuple[str, str]]
    cooperation: list[tuple[str, str]]
    languages: list[tuple[str, str]]
    objectives: list[tuple[str, str]]
    themes: list[tuple[str, str]]
    target_groups: list[tuple[str, str]]
    countries: list[tuple[str, str]]
    organisation_types: list[tuple[str, str]]
    roles: list[tuple[str, str]]

    def label(self, name: str, code: str | None) -> str:
        pairs: list[tuple[str, str]] = getattr(self, name)
        return dict(pairs).get(code or "", code or "")

    def labels(self, name: str, codes: list[str]) -> list[str]:
        return [self.label(name, code) for code in codes]


def _terms(name: str, locale: str) -> list[tuple[str, str]]:
    return [(term.code, term.label(locale)) for term in vocabulary(name).terms]


def offer_choices() -> OfferChoices:
    locale = i18n.current_locale()
    return OfferChoices(
        purposes=_terms("offer-purposes", locale),
        levels=_terms("offer-levels", locale),
        cooperation=_terms("cooperation-kinds", locale),
        languages=_terms("languages", locale),
        objectives=[(code, f"{code}) {label}") for code, label in _terms("objectives", locale)],
        themes=_terms("themes", locale),
        target_groups=_terms("target-groups", locale),
        countries=sorted(_terms("countries", locale), key=lambda item: item[1]),
        organisation_types=_terms("organisation-types", locale),
        roles=_terms("partner-roles", locale),
    )


def status_label(status: str) -> str:
    labels = {
        "draft": i18n.gettext("Draft"),
        "published": i18n.gettext("Published"),
        "filled": i18n.gettext("Filled"),
        "withdrawn": i18n.gettext("Withdrawn"),
        "expired": i18n.gettext("Expired"),
    }
    return labels.get(status, status)
