"""The offer form's state: every field of an offer (API.md "Partner offers") as the form's
names, translations in slots beside the original, and each refused field's reason in the
reader's language."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData

from fedi.errors import ValidationError
from fedi.partners.fields import (
    FUNDING_FIELDS,
    LAST_MINUTE_DAYS,
    MAX_BUDGET,
    MAX_KEYWORD,
    MAX_KEYWORDS,
    MAX_OBJECTIVES,
    OfferData,
)
from fedi.web.ui import i18n
from fedi.web.ui.forms import FormState

__all__ = ["ERROR_ORDER", "SLOTS", "OfferForm"]

_TEXTS = (
    "purpose", "level", "language", "title", "summary", "description", "keywords",
    "organisation_name", "organisation_type", "organisation_country", "organisation_region",
    "organisation_city", "partners_needed", "call_deadline", "last_minute", "expires",
    "programme", "call_reference", "planned_start", "duration_months", "budget_min",
    "budget_max", "currency",
)  # fmt: skip
_LISTS = (
    "cooperation", "working_languages", "objectives", "themes", "target_groups",
    "countries_sought", "organisation_types_sought", "roles_sought",
)  # fmt: skip
_NUMBERS = ("partners_needed", "duration_months", "budget_min", "budget_max")
# The smallest and largest whole number each number field takes, for its error.
_BOUNDS = {
    "partners_needed": (1, 100),
    "duration_months": (1, 120),
    "budget_min": (0, MAX_BUDGET),
    "budget_max": (0, MAX_BUDGET),
}
_PARTS = ("title", "summary", "description")
SLOTS = 24  # at most one translation per EU language
# The service's field paths, by the form's names where they differ.
_PATHS = {
    "organisation.name": "organisation_name",
    "organisation.type": "organisation_type",
    "organisation.country": "organisation_country",
    "organisation.region": "organisation_region",
    "organisation.city": "organisation_city",
    **{f"funding.{name}": name for name in FUNDING_FIELDS},
}
# The order of the fields on the form, for the error summary.
ERROR_ORDER = [
    "purpose", "level", "cooperation", "title", "summary", "description", "language",
    "working_languages",
    *(f"tr{i}_{part}" for i in range(SLOTS) for part in ("language", *_PARTS)),
    "objectives", "themes", "target_groups", "keywords", "organisation_name",
    "organisation_type", "organisation_country", "organisation_region", "organisation_city",
    "countries_sought", "organisation_types_sought", "roles_sought", "partners_needed",
    "call_deadline", "last_minute", "expires", "programme", "call_reference", "planned_start",
    "duration_months", "budget_min", "budget_max", "currency",
]  # fmt: skip


def _text(value: object) -> str:
    return "" if value is None else str(value)


class OfferForm(FormState):
    """The form's values (the list fields' codes apart) and the translation slots it shows."""

    def __init__(self) -> None:
        super().__init__()
        self.lists: dict[str, list[str]] = {name: [] for name in _LISTS}
        self.slots = 1

    @classmethod
    def of(cls, data: OfferData) -> OfferForm:
        form = cls()
        org, funding = data.organisation, data.funding
        form.values.update(
            purpose=data.purpose,
            level=data.level,
            language=data.language,
            title=data.title,
            summary=data.summary,
            description=data.description,
            keywords=", ".join(data.codes.get("keywords", [])),
            organisation_name=_text(org["name"]),
            organisation_type=_text(org["type"]),
            organisation_country=_text(org["country"]),
            organisation_region=_text(org.get("region")),
            organisation_city=_text(org["city"]),
            partners_needed=_text(data.partners_needed),
            call_deadline=data.call_deadline.isoformat(),
            last_minute="yes" if data.last_minute else "",
            # An offer open until its call deadline (the default) leaves the field empty, so
            # that a later deadline moves it too.
            expires=(
                data.expires.isoformat()
                if data.expires and data.expires != data.call_deadline
                else ""
            ),
            programme=_text(funding.get("programme")),
            call_reference=_text(funding.get("call_reference")),
            planned_start=_text(funding.get("planned_start")),
            duration_months=_text(funding.get("duration_months")),
            budget_min=_text(funding.get("budget_min")),
            budget_max=_text(funding.get("budget_max")),
            currency=_text(funding.get("currency")),
        )
        for name in _LISTS:
            form.lists[name] = list(data.codes.get(name, []))
        for index, (language, texts) in enumerate(data.translations.items()):
            form.values[f"tr{index}_language"] = language
            for part in _PARTS:
                form.values[f"tr{index}_{part}"] = texts.get(part, "")
        form.slots = min(len(data.translations) + 1, SLOTS)
        return form

    @classmethod
    def read(cls, data: FormData) -> OfferForm:
        form = cls()
        for name in _TEXTS:
            value = data.get(name)
            form.values[name] = value if isinstance(value, str) else ""
        for name in _LISTS:
            form.lists[name] = [v for v in data.getlist(name) if isinstance(v, str)]
        used = 0
        for index in range(SLOTS):
            for part in ("language", *_PARTS):
                value = data.get(f"tr{index}_{part}")
                form.values[f"tr{index}_{part}"] = value if isinstance(value, str) else ""
            if form.values[f"tr{index}_language"]:
                used = index + 1
        form.slots = min(used + 1, SLOTS)
        return form

    def _number(self, name: str) -> object:
        """A number field as a whole number when it is one; otherwise the text, for the
        service to refuse by name, or ``None`` when empty."""
        raw = self.value(name).strip()
        if raw.isascii() and raw.isdigit():
            return int(raw)
        return raw or None

    def payload(self) -> dict[str, Any]:
        """The offer in the service's shape (API.md "Partner offers")."""
        keywords = [word for word in self.value("keywords").split(",") if word.strip()]
        return {
            "purpose": self.value("purpose"),
            "level": self.value("level") or "project",
            "language": self.value("language"),
            "title": self.value("title"),
            "summary": self.value("summary"),
            "description": self.value("description"),
            "translations": {
                self.value(f"tr{i}_language"): {
                    part: self.value(f"tr{i}_{part}") for part in _PARTS
                }
                for i in range(SLOTS)
                if self.value(f"tr{i}_language")
            },
            **{name: list(values) for name, values in self.lists.items()},
            "keywords": keywords,
            "organisation": {
                "name": self.value("organisation_name"),
                "type": self.value("organisation_type"),
                "country": self.value("organisation_country"),
                "region": self.value("organisation_region"),
                "city": self.value("organisation_city"),
            },
            "partners_needed": self._number("partners_needed"),
            "funding": {
                "programme": self.value("programme"),
                "call_reference": self.value("call_reference"),
                "call_deadline": self.value("call_deadline").strip(),
                "planned_start": self.value("planned_start").strip(),
                "duration_months": self._number("duration_months"),
                "budget_min": self._number("budget_min"),
                "budget_max": self._number("budget_max"),
                "currency": self.value("currency").strip().upper() or None,
            },
            "last_minute": self.value("last_minute") == "yes",
            "expires": self.value("expires").strip() or None,
        }

    def fail_with(self, error: ValidationError) -> None:
        """Show each refused field's error next to it, in the reader's language."""
        slots = {
            self.value(f"tr{i}_language"): i for i in range(SLOTS) if self.value(f"tr{i}_language")
        }
        for path, messages in error.errors.items():
            parts = path.split(".")
            if parts[0] == "translations" and len(parts) >= 2 and parts[1] in slots:
                part = parts[2] if len(parts) > 2 and parts[2] in _PARTS else "language"
                self.fail(f"tr{slots[parts[1]]}_{part}", message(part, messages[0]))
                continue
            name = _PATHS.get(path, path)
            if name in _TEXTS or name in _LISTS:
                self.fail(name, message(name, messages[0]))
            else:
                self.fail("title", i18n.gettext("The form could not be read; try again."))


def message(field: str, text: str) -> str:
    """The service's reason ``text`` for refusing ``field``, said in the reader's language."""
    if "is required" in text:
        return i18n.gettext("This field is required.")
    if "characters" in text and "at most" in text:
        return i18n.gettext("This text is too long.")
    if "control characters" in text:
        return i18n.gettext("This text holds characters that cannot be stored; remove them.")
    if "whole number" in text or "between" in text:
        low, high = _BOUNDS.get(field, (1, 100))
        return i18n.gettext("Enter a whole number from %(low)s to %(high)s.", low=low, high=high)
    if "must be a date" in text:
        return i18n.gettext("Enter the date as YYYY-MM-DD.")
    if "call deadline must be in the future" in text:
        return i18n.gettext("The call deadline has passed; publish only offers for open calls.")
    if field == "expires" and "in the future" in text:
        return i18n.gettext("The offer would expire at once; choose a day in the future.")
    if "after funding.call_deadline" in text:
        return i18n.gettext("The offer cannot stay open after the call deadline.")
    if "less than funding.budget_min" in text:
        return i18n.gettext("The largest budget cannot be less than the smallest.")
    if "currency" in text:
        return i18n.gettext("Give the currency as its three-letter code, such as EUR or PLN.")
    if "own language" in text:
        return i18n.gettext("This is the language of the original; choose another one.")
    if "keyword" in text:
        return i18n.gettext(
            "Give at most %(num)s keywords, separated by commas, each at most %(size)s characters.",
            num=MAX_KEYWORDS,
            size=MAX_KEYWORD,
        )
    if "last_minute" in text:
        return i18n.gettext(
            "The call closes in less than %(days)s days: tick “Last-minute” to publish it.",
            days=LAST_MINUTE_DAYS,
        )
    if "at least one ESF+ objective" in text:
        return i18n.gettext("Choose at least one ESF+ objective to publish the offer.")
    if "objectives" in text and "at most" in text:
        return i18n.gettext("Choose at most %(num)s objectives.", num=MAX_OBJECTIVES)
    return i18n.gettext("Choose one of the values offered.")
