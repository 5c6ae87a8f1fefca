"""The ranking weights, in one place, and the building blocks later searches compose."""

from __future__ import annotations

from collections.abc import Collection

__all__ = ["CODE_WEIGHT", "TEXT_WEIGHT", "code_overlap", "combined", "unit"]

# How much each part weighs in a document's score (the sum is 1).
TEXT_WEIGHT = 0.6
CODE_WEIGHT = 0.4


def unit(raw: float) -> float:
    """A non-negative relevance (bm25 negated, ts_rank) brought to 0..1, order kept."""
    raw = max(raw, 0.0)
    return raw / (1.0 + raw)


def code_overlap(document: Collection[str], wanted: Collection[str]) -> float:
    """The share of ``wanted`` codes the document has, 0..1 (0 when nothing is wanted)."""
    if not wanted:
        return 0.0
    return len(set(document) & set(wanted)) / len(set(wanted))


def combined(text: float, codes: float) -> float:
    return TEXT_WEIGHT * text + CODE_WEIGHT * codes
