"""Reading and checking the fields of a partner offer, from the API's JSON or the form.

:func:`read_offer` turns the input (the shape of API.md "Partner offers") into an
:class:`OfferData`, collecting every fault with its field path (``organisation.type``,
``funding.call_deadline``) in one :class:`ValidationError`, so that the form and the API show the
same messages. :func:`quality_faults` holds the checks that only publication needs (Ideal-ist
style: the call still open, at least one objective, a short deadline only when marked last-minute).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from fedi.errors import ValidationError
from fedi.vocabulary import vocabulary

__all__ = [
    "CODE_FIELDS",
    "FIELDS",
    "LAST_MINUTE_DAYS",
    "STATUSES",
    "OfferData",
    "quality_faults",
    "read_offer",
]

STATUSES = ("draft", "published", "filled", "withdrawn", "expired")
# A call deadline closer than this needs ``last_minute: true``.
LAST_MINUTE_DAYS = 10
MAX_TITLE = 200
MAX_SUMMARY = 1_000
MAX_DESCRIPTION = 20_000
MAX_NAME = 300
MAX_KEYWORDS = 20
MAX_KEYWORD = 64
MAX_OBJECTIVES = 3
# Budgets are INTEGER columns, 32 bits on PostgreSQL.
MAX_BUDGET = 2_000_000_000

# The list fields stored as rows of ``offer_codes``, and the vocabulary each is checked against
# (``None``: free words).
CODE_FIELDS: dict[str, str | None] = {
    "cooperation": "cooperation-kinds",
    "working_languages": "languages",
    "objectives": "objectives",
    "themes": "themes",
    "target_groups": "target-groups",
    "keywords": None,
    "countries_sought": "countries",
    "organisation_types_sought": "organisation-types",
    "roles_sought": "partner-roles",
}
ORGANISATION_FIELDS = frozenset({"name", "type", "country", "region", "city"})
FUNDING_FIELDS = frozenset(
    {
        "programme",
        "call_reference",
        "call_deadline",
        "planned_start",
        "duration_months",
        "budget_min",
        "budget_max",
        "currency",
    }
)
TRANSLATION_FIELDS = frozenset({"title", "summary", "description"})
# Every key an offer's payload may hold (``status`` is read by the use cases, not here).
FIELDS = frozenset(
    {
        "purpose",
        "level",
        "language",
        "title",
        "summary",
        "description",
        "translations",
        "organisation",
        "partners_needed",
        "funding",
        "last_minute",
        "expires",
        "status",
        *CODE_FIELDS,
    }
)


@dataclass(slots=True)
class OfferData:
    """The checked fields of one offer; list fields by their API names in ``codes``."""

    purpose: str
    level: str
    language: str
    title: str
    summary: str
    description: str
    translations: dict[str, dict[str, str]]
    codes: dict[str, list[str]]
    organisation: dict[str, str | None]
    partners_needed: int | None
    funding: dict[str, Any]
    last_minute: bool = False
    expires: date | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def call_deadline(self) -> date:
        deadline = self.funding["call_deadline"]
        assert isinstance(deadline, date)
        return deadline


class _Faults:
    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, path: str, message: str) -> None:
        self.errors.setdefault(path, []).append(message)

    def code(self, name: str, value: object, path: str) -> str:
        try:
            return vocabulary(name).check(value, path)
        except ValidationError as error:
            self.add(path, str(error))
            return ""

    def codes(self, name: str | None, value: object, path: str) -> list[str]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.add(path, "must be a list")
            return []
        if name is None:
            return self.keywords(value, path)
        found: list[str] = []
        for item in value:
            code = self.code(name, item, path)
            if code and code not in found:
                found.append(code)
        return found

    def keywords(self, value: list[Any], path: str) -> list[str]:
        found: list[str] = []
        for item in value:
            if not isinstance(item, str) or not item.strip():
                self.add(path, "each keyword must be a non-empty text")
                continue
            word = " ".join(item.split()).casefold()
            if any(ord(c) < 32 for c in word):
                self.add(path, "must not contain control characters")
            elif len(word) > MAX_KEYWORD:
                self.add(path, f"a keyword has at most {MAX_KEYWORD} characters")
            elif word not in found:
                found.append(word)
        if len(found) > MAX_KEYWORDS:
            self.add(path, f"at most {MAX_KEYWORDS} keywords")
        return found

    def text(self, value: object, path: str, limit: int, *, required: bool = True) -> str:
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.add(path, "is required")
            return ""
        if not isinstance(value, str):
            self.add(path, "must be a text")
            return ""
        text = value.strip()
        if len(text) > limit:
            self.add(path, f"at most {limit} characters")
        if any(ord(c) < 32 and c not in "\n\t\r" for c in text):
            self.add(path, "must not contain control characters")
        return text

    def day(self, value: object, path: str, *, required: bool = False) -> date | None:
        if value is None or value == "":
            if required:
                self.add(path, "is required")
            return None
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        self.add(path, "must be a date (YYYY-MM-DD)")
        return None

    def number(self, value: object, path: str, low: int, high: int) -> int | None:
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(path, "must be a whole number")
            return None
        if not low <= value <= high:
            self.add(path, f"must be between {low} and {high}")
            return None
        return value


def _mapping(value: object, path: str, faults: _Faults) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        faults.add(path, "must be an object")
        return {}
    return value


def _unknown(data: dict[str, Any], known: frozenset[str], prefix: str, faults: _Faults) -> None:
    for name in sorted(str(key) for key in set(data) - known):
        faults.add(f"{prefix}{name[:64]}", "is not a field of an offer")


def read_offer(payload: object) -> OfferData:
    """Check the fields of ``payload``; a :class:`ValidationError` listing every fault (a key
    that is no field of an offer among them)."""
    faults = _Faults()
    data = _mapping(payload, "", faults)
    _unknown(data, FIELDS, "", faults)
    purpose = faults.code("offer-purposes", data.get("purpose"), "purpose")
    level = faults.code("offer-levels", data.get("level", "project"), "level")
    language = faults.code("languages", data.get("language"), "language")
    title = faults.text(data.get("title"), "title", MAX_TITLE)
    summary = faults.text(data.get("summary"), "summary", MAX_SUMMARY)
    description = faults.text(
        data.get("description"), "description", MAX_DESCRIPTION, required=False
    )
    translations: dict[str, dict[str, str]] = {}
    for lang, texts in _mapping(data.get("translations"), "translations", faults).items():
        path = f"translations.{lang}"
        code = faults.code("languages", lang, path)
        texts = _mapping(texts, path, faults)
        _unknown(texts, TRANSLATION_FIELDS, f"{path}.", faults)
        if code and code == language:
            faults.add(path, "is the offer's own language")
        if code:
            translations[code] = {
                "title": faults.text(texts.get("title"), f"{path}.title", MAX_TITLE),
                "summary": faults.text(texts.get("summary"), f"{path}.summary", MAX_SUMMARY),
                "description": faults.text(
                    texts.get("description"),
                    f"{path}.description",
                    MAX_DESCRIPTION,
                    required=False,
                ),
            }
    codes = {name: faults.codes(vocab, data.get(name), name) for name, vocab in CODE_FIELDS.items()}
    if len(codes["objectives"]) > MAX_OBJECTIVES:
        faults.add("objectives", f"at most {MAX_OBJECTIVES} objectives")
    org = _mapping(data.get("organisation"), "organisation", faults)
    _unknown(org, ORGANISATION_FIELDS, "organisation.", faults)
    organisation = {
        "name": faults.text(org.get("name"), "organisation.name", MAX_NAME),
        "type": faults.code("organisation-types", org.get("type"), "organisation.type"),
        "country": faults.code("countries", org.get("country"), "organisation.country"),
        "region": faults.text(org.get("region"), "organisation.region", MAX_NAME, required=False)
        or None,
        "city": faults.text(org.get("city"), "organisation.city", MAX_NAME, required=False) or None,
    }
    partners_needed = faults.number(data.get("partners_needed"), "partners_needed", 1, 100)
    fund = _mapping(data.get("funding"), "funding", faults)
    _unknown(fund, FUNDING_FIELDS, "funding.", faults)
    funding: dict[str, Any] = {
        "programme": faults.text(
            fund.get("programme"), "funding.programme", MAX_NAME, required=False
        )
        or None,
        "call_reference": faults.text(
            fund.get("call_reference"), "funding.call_reference", MAX_NAME, required=False
        )
        or None,
        "call_deadline": faults.day(
            fund.get("call_deadline"), "funding.call_deadline", required=True
        ),
        "planned_start": faults.day(fund.get("planned_start"), "funding.planned_start"),
        "duration_months": faults.number(
            fund.get("duration_months"), "funding.duration_months", 1, 120
        ),
        "budget_min": faults.number(fund.get("budget_min"), "funding.budget_min", 0, MAX_BUDGET),
        "budget_max": faults.number(fund.get("budget_max"), "funding.budget_max", 0, MAX_BUDGET),
        "currency": None,
    }
    currency = fund.get("currency")
    if currency is not None:
        if isinstance(currency, str) and len(currency) == 3 and currency.isalpha():
            funding["currency"] = currency.upper()
        else:
            faults.add("funding.currency", "must be a three-letter currency code (ISO 4217)")
    low, high = funding["budget_min"], funding["budget_max"]
    if low is not None and high is not None and low > high:
        faults.add("funding.budget_max", "must not be less than funding.budget_min")
    last_minute = data.get("last_minute", False)
    if not isinstance(last_minute, bool):
        faults.add("last_minute", "must be true or false")
        last_minute = False
    expires = faults.day(data.get("expires"), "expires")
    deadline = funding["call_deadline"]
    if expires is not None and deadline is not None and expires > deadline:
        faults.add("expires", "must not be after funding.call_deadline")
    if faults.errors:
        first = next(iter(faults.errors))
        raise ValidationError(
            f"{first}: {faults.errors[first][0]}" if first else faults.errors[first][0],
            errors=faults.errors,
        )
    return OfferData(
        purpose=purpose,
        level=level,
        language=language,
        title=title,
        summary=summary,
        description=description,
        translations=translations,
        codes=codes,
        organisation=organisation,
        partners_needed=partners_needed,
        funding=funding,
        last_minute=last_minute,
        expires=expires,
    )


def quality_faults(offer: OfferData, today: date) -> dict[str, list[str]]:
    """What keeps ``offer`` from being published on ``today`` (empty: nothing)."""
    faults = _Faults()
    deadline = offer.call_deadline
    if deadline <= today:
        faults.add("funding.call_deadline", "the call deadline must be in the future")
    elif deadline - today < timedelta(days=LAST_MINUTE_DAYS) and not offer.last_minute:
        faults.add(
            "funding.call_deadline",
            f"a call deadline less than {LAST_MINUTE_DAYS} days away needs last_minute: true",
        )
    if not offer.codes["objectives"]:
        faults.add("objectives", "choose at least one ESF+ objective")
    expires = offer.expires
    if expires is not None and expires <= today:
        faults.add("expires", "must be in the future")
    return faults.errors
