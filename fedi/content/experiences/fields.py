"""What a member may write in an experience, checked once for the form and the API alike.

:func:`read_input` takes the fields as API.md names them and gives an :class:`ExperienceInput`,
or raises one :class:`~fedi.errors.ValidationError` listing every field at fault (a code outside
its vocabulary names the allowed values).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fedi.errors import ValidationError
from fedi.vocabulary import vocabulary

__all__ = [
    "KINDS",
    "PROGRAMME_PERIODS",
    "ExperienceInput",
    "Version",
    "merge",
    "read_input",
]

KINDS = ("experience", "resource")
PROGRAMME_PERIODS = ("2000-2006", "2007-2013", "2014-2020", "2021-2027")
MAX_TITLE = 300
MAX_SUMMARY = 2000
MAX_BODY = 100_000
MAX_TEXT = 20_000
MAX_ORGANISATION = 255
MAX_TAGS = 20
_TAG = re.compile(r"^[^\W_][\w]{0,63}$")

# The fields read_input knows; any other is refused, so a misspelt name is not silently lost.
FIELDS = frozenset(
    {
        "kind", "language", "title", "summary", "body", "translations", "country", "objectives",
        "themes", "target_groups", "programme_period", "organisation", "results",
        "transferability", "tags", "attachments",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Version:
    """One language's texts: a plain title and summary, the body in Markdown."""

    title: str
    summary: str
    body: str


@dataclass(frozen=True)
class ExperienceInput:
    kind: str
    language: str
    original: Version
    translations: dict[str, Version] = field(default_factory=dict)
    country: str | None = None
    objectives: list[str] = field(default_factory=list)
    themes: list[str] = field(default_factory=list)
    target_groups: list[str] = field(default_factory=list)
    programme_period: str | None = None
    organisation: str = ""
    results: str = ""
    transferability: str = ""
    tags: list[str] = field(default_factory=list)
    attachments: list[str] = field(default_factory=list)

    def as_fields(self) -> dict[str, Any]:
        """The input in API.md's names again (so that an edit can start from what is stored)."""
        return {
            "kind": self.kind,
            "language": self.language,
            "title": self.original.title,
            "summary": self.original.summary,
            "body": self.original.body,
            "translations": {
                language: {"title": v.title, "summary": v.summary, "body": v.body}
                for language, v in self.translations.items()
            },
            "country": self.country,
            "objectives": list(self.objectives),
            "themes": list(self.themes),
            "target_groups": list(self.target_groups),
            "programme_period": self.programme_period,
            "organisation": self.organisation,
            "results": self.results,
            "transferability": self.transferability,
            "tags": list(self.tags),
            "attachments": list(self.attachments),
        }


class _Errors:
    def __init__(self) -> None:
        self.found: dict[str, list[str]] = {}

    def add(self, name: str, message: str) -> None:
        self.found.setdefault(name, []).append(message)

    def check(self, name: str, check: Any, *args: Any) -> Any:
        try:
            return check(*args)
        except ValidationError as exc:
            for key, messages in (exc.errors or {name: [str(exc)]}).items():
                for message in messages:
                    self.add(key or name, message)
            return None


def _text(value: Any, name: str, limit: int, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError("must be a string", field=name)
    text = str(value).strip()
    if required and not text:
        raise ValidationError("is required", field=name)
    if len(text) > limit:
        raise ValidationError(f"must be at most {limit} characters", field=name)
    # NUL and the other control characters have no place in a text (PostgreSQL cannot even
    # store NUL); line breaks and tabs are text.
    if any(ord(c) < 32 and c not in "\n\t\r" for c in text):
        raise ValidationError("must not contain control characters", field=name)
    return text


def _choice(value: Any, name: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValidationError(
            f"{value!r} is not a known value; allowed values: {', '.join(allowed)}"[:600],
            field=name,
        )
    return str(value)


def _optional_code(value: Any, name: str, vocabulary_name: str) -> str | None:
    if value is None or value == "":
        return None
    return vocabulary(vocabulary_name).check(value, name)


def _tags(value: Any, name: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValidationError("must be a list of hashtags", field=name)
    tags: dict[str, None] = {}
    for item in value:
        text = item.strip().removeprefix("#") if isinstance(item, str) else None
        if text is None or not _TAG.match(text):
            raise ValidationError(
                "each hashtag is one word of letters, digits or _ (at most 64)", field=name
            )
        tags.setdefault(text, None)
    if len(tags) > MAX_TAGS:
        raise ValidationError(f"at most {MAX_TAGS} hashtags", field=name)
    return list(tags)


def _ids(value: Any, name: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError("must be a list of media ids", field=name)
    return list(dict.fromkeys(value))


def _version(value: Any, name: str, errors: _Errors) -> Version:
    return Version(
        title=errors.check(
            f"{name}title", _text, value.get("title"), f"{name}title", MAX_TITLE, True
        )
        or "",
        summary=errors.check(
            f"{name}summary", _text, value.get("summary"), f"{name}summary", MAX_SUMMARY
        )
        or "",
        body=errors.check(f"{name}body", _text, value.get("body"), f"{name}body", MAX_BODY, True)
        or "",
    )


def _translations(value: Any, original: str | None, errors: _Errors) -> dict[str, Version]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors.add("translations", "must map language codes to {title, summary, body}")
        return {}
    found: dict[str, Version] = {}
    languages = vocabulary("languages")
    for language, texts in value.items():
        where = f"translations.{str(language)[:16]}"
        code = errors.check(where, languages.check, language, where)
        if code is None:
            continue
        if code == original:
            # The original is title, summary and body; a version in its language adds nothing.
            continue
        if not isinstance(texts, dict):
            errors.add(where, "must be an object with title, summary and body")
            continue
        found[code] = _version(texts, f"{where}.", errors)
    return found


def _codes(vocabulary_name: str, limit: int) -> Any:
    def check(values: Any, name: str) -> list[str]:
        if isinstance(values, list) and len(values) > limit:
            raise ValidationError(f"at most {limit} codes", field=name)
        return vocabulary(vocabulary_name).check_all(values, name)

    return check


def read_input(data: Mapping[str, Any]) -> ExperienceInput:
    """The experience ``data`` describes, every field checked; one ValidationError naming every
    field at fault otherwise."""
    errors = _Errors()
    for name in sorted(set(data) - FIELDS):
        errors.add(str(name)[:64], "is not a field of an experience")
    kind = errors.check("kind", _choice, data.get("kind") or "experience", "kind", KINDS)
    language = errors.check(
        "language", vocabulary("languages").check, data.get("language"), "language"
    )
    original = _version(data, "", errors)
    result = ExperienceInput(
        kind=kind or "experience",
        language=language or "en",
        original=original,
        translations=_translations(data.get("translations"), language, errors),
        country=errors.check(
            "country", _optional_code, data.get("country"), "country", "countries"
        ),
        objectives=errors.check(
            "objectives",
            _codes("objectives", 13),
            data.get("objectives", []),
            "objectives",
        )
        or [],
        themes=errors.check("themes", _codes("themes", 50), data.get("themes", []), "themes") or [],
        target_groups=errors.check(
            "target_groups",
            _codes("target-groups", 50),
            data.get("target_groups", []),
            "target_groups",
        )
        or [],
        programme_period=(
            None
            if data.get("programme_period") in (None, "")
            else errors.check(
                "programme_period",
                _choice,
                data.get("programme_period"),
                "programme_period",
                PROGRAMME_PERIODS,
            )
        ),
        organisation=errors.check(
            "organisation", _text, data.get("organisation"), "organisation", MAX_ORGANISATION
        )
        or "",
        results=errors.check("results", _text, data.get("results"), "results", MAX_TEXT) or "",
        transferability=errors.check(
            "transferability", _text, data.get("transferability"), "transferability", MAX_TEXT
        )
        or "",
        tags=errors.check("tags", _tags, data.get("tags"), "tags") or [],
        attachments=errors.check("attachments", _ids, data.get("attachments"), "attachments") or [],
    )
    if errors.found:
        first, messages = next(iter(errors.found.items()))
        raise ValidationError(f"{first}: {messages[0]}"[:600], errors=errors.found)
    return result


def merge(current: ExperienceInput, patch: Mapping[str, Any]) -> ExperienceInput:
    """``current`` with the fields ``patch`` gives replaced, checked as a whole."""
    if not isinstance(patch, Mapping):
        raise ValidationError("the body must be a JSON object")
    return read_input({**current.as_fields(), **patch})
