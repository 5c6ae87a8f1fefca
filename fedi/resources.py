"""Where the data shipped beside the code lives: ``schemas/`` and ``migrations/``.

In a source checkout (and an editable install) they are the top-level folders of the repository;
in a wheel they are packaged as ``fedi/_schemas`` and ``fedi/_migrations``.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["migrations_dir", "schemas_dir"]

_PACKAGE = Path(__file__).resolve().parent


def _find(name: str) -> Path:
    for candidate in (_PACKAGE.parent / name, _PACKAGE / f"_{name}"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"the {name}/ folder is missing from this installation")


def schemas_dir() -> Path:
    return _find("schemas")


def migrations_dir() -> Path:
    return _find("migrations")
