"""The language of an API answer's labels and sentences, from the request's ``Accept-Language``."""

from __future__ import annotations

from starlette.requests import Request
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from fedi.vocabulary import DEFAULT_LOCALE, LOCALES

__all__ = ["request_locale"]


def request_locale(request: Request) -> str:
    """The best of :data:`fedi.vocabulary.LOCALES` for the request (quality values and
    ``pl-PL`` style tags honoured), English when it names none of them."""
    accepted = parse_accept_header(request.headers.get("accept-language"), LanguageAccept)
    return accepted.best_match(LOCALES, default=DEFAULT_LOCALE) or DEFAULT_LOCALE
