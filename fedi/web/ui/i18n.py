"""Translations and locale-aware formatting, read from the request's locale.

The catalogs are the ``.po`` files under ``locales/``, read with Babel once when the application
is built (no compiled ``.mo`` files to keep in step with them, and no build step). The locale of
the request being served, with its translations, lives in a :class:`~contextvars.ContextVar` set
by :class:`LocaleMiddleware`; the ``gettext`` callables here, which the Jinja environment and the
page code share, read it. Outside a request they answer in English.
"""

from __future__ import annotations

import contextvars
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any, cast

import babel.dates
import babel.numbers
import http_sf
from babel import Locale
from babel.support import Translations
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from fedi.translations import LOCALES_DIR, Catalogs, load_catalogs
from fedi.vocabulary import DEFAULT_LOCALE, LOCALES

__all__ = [
    "DEFAULT_LOCALE",
    "LANGUAGE_COOKIE",
    "LOCALES",
    "LOCALES_DIR",
    "Catalogs",
    "LocaleMiddleware",
    "choose_plural",
    "current_locale",
    "format_date",
    "format_datetime",
    "format_number",
    "gettext",
    "language_name",
    "load_catalogs",
    "negotiate",
    "ngettext",
    "reader_language",
    "reset_locale",
    "use_locale",
]

LANGUAGE_COOKIE = "fedi_lang"


class _Current:
    """The locale of the context, negotiated from its request when first asked for: most
    requests (an inbox POST, a JSON document) never show a translated word."""

    __slots__ = ("_catalogs", "_locale", "_scope", "_translations")

    def __init__(
        self, catalogs: Catalogs, *, locale: str | None = None, scope: Scope | None = None
    ) -> None:
        self._catalogs = catalogs
        self._scope = scope
        self._locale: str | None = None
        self._translations: Translations | None = None
        if locale is not None:
            self._choose(locale)

    def _choose(self, locale: str) -> None:
        self._locale = locale if locale in LOCALES else DEFAULT_LOCALE
        self._translations = self._catalogs.for_locale(self._locale)

    @property
    def locale(self) -> str:
        if self._locale is None:
            assert self._scope is not None, "a locale or a request"
            self._choose(negotiate(HTTPConnection(self._scope)))
            self._scope = None
        assert self._locale is not None
        return self._locale

    @property
    def translations(self) -> Translations | None:
        if self._locale is None:
            self.locale  # noqa: B018 - negotiates
        return self._translations


_current: contextvars.ContextVar[_Current] = contextvars.ContextVar("fedi_locale")


def _translations() -> Translations | None:
    current = _current.get(None)
    return None if current is None else current.translations


def current_locale() -> str:
    current = _current.get(None)
    return DEFAULT_LOCALE if current is None else current.locale


def use_locale(locale: str, catalogs: Catalogs) -> contextvars.Token[_Current]:
    """Serve the rest of this context in ``locale`` (one of :data:`LOCALES`); undo it with
    ``reset_locale(token)``."""
    return _current.set(_Current(catalogs, locale=locale))


def reset_locale(token: contextvars.Token[_Current]) -> None:
    _current.reset(token)


def gettext(message: str, **variables: object) -> str:
    """``message`` in the current locale, with ``%(name)s`` placeholders filled from
    ``variables`` (the Jinja newstyle convention)."""
    translations = _translations()
    text: str = translations.gettext(message) if translations is not None else message
    return text % variables if variables else text


def choose_plural(singular: str, plural: str, n: int) -> str:
    """The translated form of ``singular``/``plural`` for ``n``, placeholders unfilled."""
    translations = _translations()
    if translations is None:
        return singular if n == 1 else plural
    text: str = translations.ngettext(singular, plural, n)
    return text


def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
    """The form of ``singular``/``plural`` for ``n`` in the current locale (Polish has three),
    with ``%(num)s`` set to ``n`` formatted for the locale."""
    return choose_plural(singular, plural, n) % {"num": format_number(n), **variables}


def format_date(value: date) -> str:
    return babel.dates.format_date(value, format="long", locale=current_locale())


def format_datetime(value: datetime) -> str:
    return babel.dates.format_datetime(value, format="medium", tzinfo=None, locale=current_locale())


def format_number(value: int | float | Decimal) -> str:
    return babel.numbers.format_decimal(value, locale=current_locale())


@cache
def language_name(locale: str) -> str:
    """A language named in itself ("polski", "English"), as a language switch shows it (every
    page's language switch asks: Babel's answer is kept)."""
    name: str = Locale.parse(locale).get_display_name(locale) or locale
    return name[:1].upper() + name[1:] if locale == "en" else name


def _accepted(header: str) -> list[str]:
    """Language ranges of an ``Accept-Language`` value, most wanted first; none when malformed."""
    try:
        members = cast(list[Any], http_sf.parse(header.encode("ascii"), tltype="list"))
    except (UnicodeEncodeError, ValueError):
        return []
    ranked: list[tuple[Decimal, int, str]] = []
    for position, (value, parameters) in enumerate(members):
        if not isinstance(value, http_sf.Token):
            continue
        weight = parameters.get("q", 1)
        if isinstance(weight, int | float | Decimal) and weight > 0:
            ranked.append((-Decimal(str(weight)), position, str(value)))
    return [value for _, _, value in sorted(ranked)]


def reader_language(connection: HTTPConnection) -> str:
    """The language a reader reads best: their first ``Accept-Language`` (``de`` from
    ``de-AT``), else the page's locale. Unlike :func:`negotiate`, not limited to the pages'
    translations (a search ranks offers in the reader's working languages)."""
    for wanted in _accepted(connection.headers.get("accept-language", "")):
        primary = wanted.split("-", 1)[0].lower()
        if primary.isalpha() and len(primary) == 2:
            return primary
    return negotiate(connection)


def negotiate(connection: HTTPConnection) -> str:
    """The locale of a request: the language cookie, else the best of ``Accept-Language``."""
    chosen = connection.cookies.get(LANGUAGE_COOKIE, "")
    if chosen in LOCALES:
        return chosen
    for wanted in _accepted(connection.headers.get("accept-language", "")):
        primary = wanted.split("-", 1)[0].lower()
        if primary in LOCALES:
            return primary
    return DEFAULT_LOCALE


class LocaleMiddleware:
    """Serves each HTTP request in its negotiated locale (see :func:`negotiate`), negotiated
    when something first asks for it."""

    def __init__(self, app: ASGIApp, *, catalogs: Catalogs) -> None:
        self.app = app
        self.catalogs = catalogs

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = _current.set(_Current(self.catalogs, scope=scope))
        try:
            await self.app(scope, receive, send)
        finally:
            reset_locale(token)
