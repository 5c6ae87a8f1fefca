"""The JSON Schemas of the documents we emit, read from ``schemas/activitypub/``.

Each schema is a Draft 2020-12 document named ``<name>.schema.json`` whose ``$id`` is
``SCHEMA_BASE + <name>.schema.json``; they refer to each other (and to ``defs``) by relative
``$ref``, so a validator needs all of them in its registry (:func:`load_all`). Nothing is read at
import time; files are read on first use and cached.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from fedi.resources import schemas_dir

__all__ = [
    "SCHEMA_BASE",
    "SCHEMA_MEDIA_TYPE",
    "SCHEMA_NAMES",
    "UnknownSchemaError",
    "load_all",
    "load_schema",
    "schema_id",
    "schema_path",
    "schema_text",
]

SCHEMA_BASE = "https://schemas.transnationality.eu/activitypub/"
SCHEMA_MEDIA_TYPE = "application/schema+json"

#: Every schema we publish; only these names are ever looked up or served.
SCHEMA_NAMES: tuple[str, ...] = (
    "defs",
    "actor",
    "follow",
    "accept",
    "reject",
    "undo",
    "note",
    "article",
    "experience",
    "page",
    "offer",
    "create",
    "tombstone",
    "delete",
    "update",
    "announce",
    "lock",
    "pin",
    "ordered-collection",
    "ordered-collection-page",
    "webfinger",
    "host-meta",
    "nodeinfo-discovery",
    "nodeinfo-2.0",
    "nodeinfo-2.1",
)
_NAME = re.compile(r"[a-z0-9-]+(?:\.[0-9]+)*")


class UnknownSchemaError(KeyError):
    """No schema of that name is published."""


def schema_id(name: str) -> str:
    return f"{SCHEMA_BASE}{name}.schema.json"


def schema_path(name: str) -> Path:
    """The file of a published schema. Names outside :data:`SCHEMA_NAMES` are refused before
    any path is built, so no name can reach outside ``schemas/activitypub/``."""
    if name not in SCHEMA_NAMES or not _NAME.fullmatch(name):
        raise UnknownSchemaError(name)
    return schemas_dir() / "activitypub" / f"{name}.schema.json"


@cache
def _read(name: str) -> str:
    return schema_path(name).read_text(encoding="utf-8")


def schema_text(name: str) -> str:
    """The schema file's text as published (for serving it byte for byte)."""
    return _read(name)


def load_schema(name: str) -> dict[str, Any]:
    """A fresh copy of the parsed schema ``name``; :class:`UnknownSchemaError` if not published."""
    document: dict[str, Any] = json.loads(_read(name))
    return document


def load_all() -> dict[str, dict[str, Any]]:
    """Every published schema by name, e.g. to fill a validator's registry."""
    return {name: load_schema(name) for name in SCHEMA_NAMES}
