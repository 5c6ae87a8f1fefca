"""The language of an API answer's labels and sentences, from the request's ``Accept-Language``."""

from __future__ import annotations

from starlette.requests import Request
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from fedi.vocabulary import DEFAULT_LOCALE, LOCALES

__all__ = ["request_locale"]


def request_locale(request: Request) -> str:
    """The first of :data:`fedi.vocabulary.LOCALES` in the request's preferences, by quality,
    a regional tag standing for its language (``en-GB`` is English, before a later ``pl``);
    English when it names none of them."""
    accepted = parse_accept_header(request.headers.get("accept-language"), LanguageAccept)
    for tag, _quality in accepted:  # highest quality first
        language = tag.split("-", 1)[0].split("_", 1)[0].lower()
        if language in LOCALES:
            return language
    return DEFAULT_LOCALE
