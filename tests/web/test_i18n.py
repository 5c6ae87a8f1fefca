"""Translations: the catalogs are complete and current, and each request gets its language."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from starlette.requests import HTTPConnection

from fedi.web.ui import i18n

ROOT = Path(__file__).parents[2]


def _extracted() -> set[str | tuple[str, str]]:
    """Every message id in the source, extracted as ``make messages`` does (babel.cfg)."""
    method_map, options_map = parse_mapping_cfg((ROOT / "babel.cfg").open())
    ids: set[str | tuple[str, str]] = set()
    for _, _, message, _, _ in extract_from_dir(str(ROOT), method_map, options_map):
        ids.add(message if isinstance(message, str) else (message[0], message[1]))
    return ids


def _catalog(locale: str) -> Catalog:
    with (i18n.LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=locale)


@pytest.fixture(scope="module")
def extracted() -> set[str | tuple[str, str]]:
    ids = _extracted()
    assert len(ids) > 50  # the extraction did find the templates and the code
    return ids


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_the_catalog_matches_the_source(locale: str, extracted: set[str | tuple[str, str]]) -> None:
    catalog = _catalog(locale)
    ids = {
        message.id if isinstance(message.id, str) else (message.id[0], message.id[1])
        for message in catalog
        if message.id
    }
    assert sorted(map(str, extracted - ids)) == [], "missing: run `make messages` and translate"
    assert sorted(map(str, ids - extracted)) == [], "stale: run `make messages`"
    assert catalog.obsolete == {}


def _problems(catalog: Catalog) -> list[str]:
    """Empty, incomplete or fuzzy entries, and what ``Catalog.check`` finds (placeholders)."""
    problems = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
        forms = catalog.num_plurals if message.pluralizable else 1
        if not all(strings) or len(strings) != forms:
            problems.append(f"untranslated: {message.id!r}")
    for message, errors in catalog.check():
        problems += [f"{message.id!r}: {error}" for error in errors]
    return problems


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_every_message_is_translated_and_checked(locale: str) -> None:
    catalog = _catalog(locale)
    assert catalog.num_plurals == (3 if locale == "pl" else 2)
    assert _problems(catalog) == []


def test_empty_fuzzy_and_mismatched_entries_are_problems() -> None:
    catalog = _catalog("pl")
    catalog["Sign in"].string = ""
    catalog["Not found"].flags.add("fuzzy")
    catalog["Join %(network)s"].string = "Dołącz do %(siec)s"
    assert len(_problems(catalog)) == 3


def _connection(headers: dict[str, str]) -> HTTPConnection:
    raw = [(name.lower().encode(), value.encode()) for name, value in headers.items()]
    return HTTPConnection({"type": "http", "headers": raw})


@pytest.mark.parametrize(
    ("headers", "locale"),
    [
        ({}, "en"),
        ({"Accept-Language": "pl-PL,pl;q=0.9,en;q=0.8"}, "pl"),
        ({"Accept-Language": "de-DE,de;q=0.9,pl;q=0.5,en;q=0.3"}, "pl"),
        ({"Accept-Language": "pl;q=0, en"}, "en"),
        ({"Accept-Language": "fr, en;q=0.2, pl;q=0.4"}, "pl"),
        ({"Accept-Language": "a;;b,,"}, "en"),
        ({"Accept-Language": "ąę"}, "en"),
        ({"Cookie": "fedi_lang=pl", "Accept-Language": "en"}, "pl"),
        ({"Cookie": "fedi_lang=xx", "Accept-Language": "pl"}, "pl"),
    ],
)
def test_the_locale_comes_from_the_cookie_then_accept_language(
    headers: dict[str, str], locale: str
) -> None:
    assert i18n.negotiate(_connection(headers)) == locale


def test_polish_has_three_plural_forms_and_its_own_formats() -> None:
    catalogs = i18n.load_catalogs()
    token = i18n.use_locale("pl", catalogs)
    try:
        singular = "Too many sign-in attempts failed. Try again in %(num)s minute."
        plural = "Too many sign-in attempts failed. Try again in %(num)s minutes."
        forms = {
            n: i18n.ngettext(singular, plural, n).rsplit(" ", 2)[-2:] for n in (1, 2, 5, 22, 25)
        }
        assert forms == {
            1: ["1", "minutę."],
            2: ["2", "minuty."],
            5: ["5", "minut."],
            22: ["22", "minuty."],
            25: ["25", "minut."],
        }
        assert i18n.gettext("Sign in") == "Zaloguj się"
        assert i18n.format_date(date(2026, 12, 1)) == "1 grudnia 2026"
        assert i18n.format_number(12345) == "12\xa0345"
    finally:
        i18n.reset_locale(token)
    # Outside a request: English.
    assert i18n.gettext("Sign in") == "Sign in"
    assert i18n.format_date(date(2026, 12, 1)) == "December 1, 2026"
