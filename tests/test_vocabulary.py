"""The vocabularies of DOMAIN.md, as data: complete, labelled in English and Polish, checked."""

from __future__ import annotations

import pytest

from fedi.errors import NotFoundError, ValidationError
from fedi.vocabulary import (
    LOCALES,
    VOCABULARY_NAMES,
    country_label,
    normalise_country,
    vocabulary,
)

# The codes as DOMAIN.md lists them, in its order.
EXPECTED = {
    "objectives": list("abcdefghijklm"),
    "themes": [
        "employment-education-skills",
        "social-inclusion",
        "social-innovation",
        "migrant-integration",
        "material-support",
        "youth-employment",
        "governance-public-administration",
        "simplification",
        "results-based-management",
        "social-economy",
        "partnership",
    ],
    "equal-pillars": [
        "employability",
        "entrepreneurship",
        "adaptability",
        "equal-opportunities",
        "asylum-seekers",
    ],
    "organisation-types": [
        "public-authority",
        "managing-authority-or-intermediate-body",
        "public-employment-service",
        "ngo-civil-society",
        "social-partner-trade-union",
        "social-partner-employers",
        "social-economy-enterprise",
        "sme",
        "large-enterprise",
        "education-training-provider",
        "higher-education",
        "research",
        "other",
    ],
    "target-groups": [
        "unemployed",
        "long-term-unemployed",
        "inactive",
        "employed-self-employed",
        "youth-neet",
        "young-people-under-30",
        "older-workers-55-plus",
        "low-skilled",
        "persons-with-disabilities",
        "migrants-third-country-nationals",
        "minorities-roma",
        "homeless-housing-exclusion",
        "rural-population",
        "most-deprived",
        "children",
        "women",
        "refugees-displaced",
    ],
    "languages": [
        "bg",
        "cs",
        "da",
        "de",
        "el",
        "en",
        "es",
        "et",
        "fi",
        "fr",
        "ga",
        "hr",
        "hu",
        "it",
        "lt",
        "lv",
        "mt",
        "nl",
        "pl",
        "pt",
        "ro",
        "sk",
        "sl",
        "sv",
    ],
    "cooperation-kinds": [
        "join-a-project",
        "seek-partners",
        "peer-learning",
        "transfer-of-practice",
        "programme-to-programme",
    ],
    "partner-roles": ["lead", "partner", "associated", "advisory"],
    "offer-purposes": ["offer", "request"],
    "offer-levels": ["project", "programme"],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_list_has_the_codes_of_the_domain(name: str) -> None:
    assert list(vocabulary(name).codes) == EXPECTED[name]


def test_every_vocabulary_is_named_once() -> None:
    assert set(VOCABULARY_NAMES) == {*EXPECTED, "countries"}


@pytest.mark.parametrize("name", VOCABULARY_NAMES)
def test_every_term_has_an_english_and_a_polish_label(name: str) -> None:
    vocab = vocabulary(name)
    assert vocab.description
    for term in vocab.terms:
        for locale in LOCALES:
            assert term.labels.get(locale, "").strip(), (term.code, locale)


def test_polish_labels_are_polish() -> None:
    assert vocabulary("objectives").label("h", "pl").startswith("Aktywne włączenie")
    assert vocabulary("target-groups").label("women", "pl") == "Kobiety"
    assert country_label("DE", "pl") == "Niemcy"


def test_languages_are_named_in_themselves() -> None:
    languages = vocabulary("languages")
    assert languages.term("pl").native == "polski"
    assert languages.term("de").native == "Deutsch"
    assert languages.label("de", "pl") == "niemiecki"
    assert all(term.native for term in languages.terms)


def test_an_unknown_locale_reads_english() -> None:
    assert vocabulary("themes").label("social-inclusion", "fi") == "Social inclusion"


def test_check_names_the_field_and_the_allowed_values() -> None:
    with pytest.raises(ValidationError) as refused:
        vocabulary("partner-roles").check("boss", "roles_sought")
    assert refused.value.field == "roles_sought"
    assert refused.value.errors == {
        "roles_sought": [
            "'boss' is not a known code; allowed values: lead, partner, associated, advisory"
        ]
    }


def test_check_takes_codes_and_aliases_exactly() -> None:
    assert vocabulary("countries").check("EL", "country") == "GR"
    assert vocabulary("objectives").check("h", "objectives") == "h"
    with pytest.raises(ValidationError):
        vocabulary("objectives").check("H", "objectives")


def test_normalise_folds_case_and_resolves_aliases() -> None:
    assert normalise_country(" el") == "GR"
    assert vocabulary("objectives").normalise(" H ") == "h"
    assert vocabulary("objectives").normalise("z") is None


def test_check_all_wants_a_list_and_drops_repeats() -> None:
    themes = vocabulary("themes")
    assert themes.check_all(["partnership", "simplification", "partnership"], "themes") == [
        "partnership",
        "simplification",
    ]
    with pytest.raises(ValidationError):
        themes.check_all("partnership", "themes")
    with pytest.raises(ValidationError):
        themes.check_all([1], "themes")


def test_an_unknown_vocabulary_is_not_found() -> None:
    with pytest.raises(NotFoundError):
        vocabulary("../countries")
