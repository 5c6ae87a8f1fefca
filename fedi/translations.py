"""The gettext catalogs of the interface, for the pages and for what is written outside a request
(notification e-mails in the recipient's language).

The catalogs are the ``.po`` files under ``fedi/web/ui/locales/``, read with Babel (no compiled
``.mo`` files to keep in step with them, and no build step). :func:`load_catalogs` reads them
fresh; :func:`shared_catalogs` reads them once per process, for code that has no application
at hand.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from fedi.vocabulary import DEFAULT_LOCALE, LOCALES

__all__ = ["LOCALES_DIR", "Catalogs", "load_catalogs", "shared_catalogs"]

LOCALES_DIR = Path(__file__).parent / "web" / "ui" / "locales"


@dataclass(frozen=True)
class Catalogs:
    """The gettext translations of every supported locale."""

    translations: Mapping[str, Translations]

    def for_locale(self, locale: str) -> Translations:
        return self.translations.get(locale) or self.translations[DEFAULT_LOCALE]


def load_catalogs(directory: Path = LOCALES_DIR) -> Catalogs:
    """Read ``<locale>/LC_MESSAGES/messages.po`` of every locale (fuzzy entries are left out,
    like ``msgfmt`` does)."""
    translations: dict[str, Translations] = {}
    for locale in LOCALES:
        path = directory / locale / "LC_MESSAGES" / "messages.po"
        with path.open("rb") as po:
            catalog = read_po(po, locale=locale)
        compiled = io.BytesIO()
        write_mo(compiled, catalog)
        compiled.seek(0)
        translations[locale] = Translations(compiled)
    return Catalogs(translations)


@functools.cache
def shared_catalogs() -> Catalogs:
    """The catalogs, read on first use and kept for the life of the process."""
    return load_catalogs()
