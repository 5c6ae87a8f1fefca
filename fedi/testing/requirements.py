"""Optional test parts (PostgreSQL, browser, interop) that skip locally and are mandatory in CI.

``FEDI_TEST_REQUIRE`` is a comma-separated list of parts (``postgres``, ``browser``, ``interop``,
``federation``); a part listed there fails instead of skipping when what it needs is missing.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

__all__ = ["required_parts", "skip_or_fail"]


def required_parts() -> frozenset[str]:
    value = os.environ.get("FEDI_TEST_REQUIRE", "")
    return frozenset(part.strip() for part in value.split(",") if part.strip())


def skip_or_fail(part: str, reason: str) -> NoReturn:
    if part in required_parts():
        pytest.fail(f"{part} is required (FEDI_TEST_REQUIRE) but unavailable: {reason}")
    pytest.skip(f"{part} skipped: {reason}")
