"""Reading an offer's ``Page`` as another instance of ours wrote it (docs/federation.md,
"Partner offers"): every structured field of :data:`~fedi.partners.document.OFFER_CONTEXT`
back into the fields a local offer has, checked by the same :func:`~fedi.partners.fields.read_offer`
as the API's input, so that a replica never holds what a member could not have written.

:func:`read_offer_page` returns a :class:`WireOffer` or raises :class:`MalformedOffer` naming
the first faulty field; nothing is guessed.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from fedi.errors import ValidationError
from fedi.federation.vocab import first_id
from fedi.partners.fields import OfferData, read_offer

__all__ = ["WIRE_STATUSES", "MalformedOffer", "WireOffer", "is_offer_page", "read_offer_page"]

# The statuses a peer's offer may carry; drafts are never sent and withdrawn ones are deleted.
WIRE_STATUSES = ("published", "filled", "expired")

# Page terms -> the API's names of the list fields.
_LISTS = {
    "cooperation": "cooperation",
    "workingLanguages": "working_languages",
    "esfObjectives": "objectives",
    "themes": "themes",
    "targetGroups": "target_groups",
    "keywords": "keywords",
    "countriesSought": "countries_sought",
    "organisationTypesSought": "organisation_types_sought",
    "rolesSought": "roles_sought",
}
_PROPOSER = {
    "name": "name",
    "organisationType": "type",
    "country": "country",
    "region": "region",
    "city": "city",
}
_FUNDING = {
    "programme": "programme",
    "callReference": "call_reference",
    "callDeadline": "call_deadline",
    "plannedStart": "planned_start",
    "durationMonths": "duration_months",
    "budgetMin": "budget_min",
    "budgetMax": "budget_max",
    "currency": "currency",
}


class MalformedOffer(Exception):
    """The Page is no offer we can keep; ``reason`` says which field is wrong and how."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class WireOffer:
    """An offer as a peer published it: its id, author, status, validation and fields."""

    uri: str
    author: str
    status: str
    validated_by: str | None
    data: OfferData


def is_offer_page(document: dict[str, Any]) -> bool:
    """The document is a ``Page`` carrying our offer terms (not a forum post)."""
    return document.get("type") == "Page" and "offerStatus" in document


def _mapping(document: dict[str, Any], key: str) -> dict[str, Any]:
    value = document.get(key, {})
    if not isinstance(value, dict):
        raise MalformedOffer(f"{key}: must be an object")
    return value


def _text(value: object) -> object:
    """A summary as sent (HTML-escaped text) back to the text written."""
    return html.unescape(value) if isinstance(value, str) else value


def _renamed(source: dict[str, Any], names: dict[str, str], path: str) -> dict[str, Any]:
    unknown = sorted(set(source) - set(names))
    if unknown:
        raise MalformedOffer(f"{path}.{unknown[0]}: is no field of an offer")
    return {names[key]: value for key, value in source.items()}


def _translations(document: dict[str, Any], language: object) -> dict[str, Any]:
    names, summaries = _mapping(document, "nameMap"), _mapping(document, "summaryMap")
    sources = _mapping(document, "sourceMap")
    return {
        lang: {
            "title": title,
            "summary": _text(summaries.get(lang)),
            "description": sources.get(lang, ""),
        }
        for lang, title in names.items()
        if lang != language
    }


def read_offer_page(document: dict[str, Any]) -> WireOffer:
    """The offer a peer's ``Page`` describes; :class:`MalformedOffer` with the reason when a
    field is missing, of the wrong type, or not a code of its vocabulary."""
    uri, author = document.get("id"), first_id(document.get("attributedTo"))
    if document.get("type") != "Page" or not isinstance(uri, str) or not author:
        raise MalformedOffer("not a Page with an id and an author")
    status = document.get("offerStatus")
    if status not in WIRE_STATUSES:
        raise MalformedOffer(f"offerStatus: must be one of {', '.join(WIRE_STATUSES)}")
    source = document.get("source")
    description = source.get("content", "") if isinstance(source, dict) else ""
    language = document.get("originalLanguage")
    payload: dict[str, Any] = {
        "purpose": document.get("purpose"),
        "level": document.get("offerLevel"),
        "language": language,
        "title": document.get("name"),
        "summary": _text(document.get("summary")),
        "description": description,
        "translations": _translations(document, language),
        "organisation": _renamed(_mapping(document, "proposer"), _PROPOSER, "proposer"),
        "funding": _renamed(_mapping(document, "funding"), _FUNDING, "funding"),
        "last_minute": document.get("lastMinute", False),
        "expires": document.get("expires"),
        "partners_needed": document.get("partnersNeeded"),
    }
    for term, name in _LISTS.items():
        payload[name] = document.get(term, [])
    try:
        data = read_offer(payload)
    except ValidationError as exc:
        raise MalformedOffer(str(exc)) from None
    validated_by = document.get("validatedBy")
    if validated_by is not None and not isinstance(validated_by, str):
        raise MalformedOffer("validatedBy: must be text")
    return WireOffer(uri, author, str(status), validated_by or None, data)
