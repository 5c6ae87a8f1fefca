"""Controlled vocabularies, read from ``schemas/vocabularies/`` (encoded once, as data)."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from fedi.resources import schemas_dir

__all__ = ["country_codes", "country_label", "normalise_country"]


@cache
def _load(name: str) -> dict[str, Any]:
    path = schemas_dir() / "vocabularies" / f"{name}.json"
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def country_codes() -> frozenset[str]:
    """Every accepted country code (ISO 3166-1 alpha-2, Greece as ``GR``)."""
    return frozenset(item["code"] for item in _load("countries")["items"])


def normalise_country(value: str) -> str:
    """Upper-case a code and map EU usage (``EL``) to ISO (``GR``)."""
    code = value.strip().upper()
    aliases: dict[str, str] = _load("countries")["aliases"]
    return aliases.get(code, code)


def country_label(code: str, language: str = "en") -> str:
    for item in _load("countries")["items"]:
        if item["code"] == code:
            labels: dict[str, str] = item["label"]
            return labels.get(language, labels["en"])
    raise KeyError(code)
