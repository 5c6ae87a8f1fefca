"""The document index: write, remove, and query documents of any kind.

:func:`index_document` reduces a document's text (:mod:`fedi.search.text`) and stores it with
its codes; :func:`search` reduces the query the same way for every plausible language, adds the
vocabulary labels it spells (:mod:`fedi.search.labels`) and asks the database's own full-text
storage (:mod:`fedi.search.storage`). Results are ordered by score, then ``ref``, and paged by
a cursor that carries the last (score, ref).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.db.models import SearchCode, SearchDocument
from fedi.errors import ValidationError
from fedi.search import storage
from fedi.search.query import Query, plan
from fedi.search.text import EU_LANGUAGES, detect, document_terms

__all__ = [
    "CodeMatch",
    "Hit",
    "Page",
    "Query",
    "index_document",
    "plan",
    "remove_document",
    "search",
]


@dataclass(frozen=True, slots=True)
class CodeMatch:
    """A code the query named through a label: which vocabulary, which label, which language."""

    vocabulary: str
    code: str
    label: str
    language: str


@dataclass(frozen=True, slots=True)
class Hit:
    ref: int
    score: float
    text_score: float
    code_score: float
    # The query's words found in the document (their indexed forms).
    terms: tuple[str, ...]
    # The codes the document matched through a label of the query, and the filter codes it has.
    codes: tuple[CodeMatch, ...]
    filters: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Page:
    hits: list[Hit]
    next_cursor: str | None


async def index_document(
    session: AsyncSession,
    *,
    kind: str,
    ref: int,
    fields: dict[str, str],
    language: str | None,
    codes: Iterable[str],
) -> None:
    """Index (or re-index) document ``ref`` of ``kind``: its text fields in ``language`` (detected
    when not given or not an EU language) and the vocabulary codes it is tagged with."""
    texts = [value for value in fields.values() if value]
    if language not in EU_LANGUAGES:
        language = detect(" ".join(texts)) if texts else "en"
    await remove_document(session, kind, ref)
    body = document_terms(texts, language)
    values = {"kind": kind, "ref": ref, "language": language, "body": body}
    values |= storage.vector_value(session, body)
    document_id = (
        await session.execute(insert(SearchDocument).values(values).returning(SearchDocument.id))
    ).scalar_one()
    unique = sorted(set(codes))
    if unique:
        await session.execute(
            insert(SearchCode), [{"document_id": document_id, "code": code} for code in unique]
        )


async def remove_document(session: AsyncSession, kind: str, ref: int) -> None:
    """Take document ``ref`` of ``kind`` out of the index (nothing when it is not in it)."""
    found = select(SearchDocument.id).where(SearchDocument.kind == kind, SearchDocument.ref == ref)
    await session.execute(delete(SearchCode).where(SearchCode.document_id.in_(found)))
    await session.execute(
        delete(SearchDocument).where(SearchDocument.kind == kind, SearchDocument.ref == ref)
    )


def _encode(score: float, ref: int) -> str:
    raw = json.dumps([score.hex(), ref]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> tuple[float, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        score_hex, ref = json.loads(base64.urlsafe_b64decode(padded))
        if not isinstance(ref, int) or isinstance(ref, bool):
            raise TypeError
        return float.fromhex(score_hex), ref
    except (ValueError, TypeError) as error:
        raise ValidationError("not a cursor of this search", field="cursor") from error


async def search(
    session: AsyncSession,
    *,
    kind: str,
    q: str = "",
    filters: Sequence[Collection[str]] = (),
    ui_language: str | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> Page:
    """Documents of ``kind`` matching ``q`` (every word, in any EU language, or a label it
    spells) and every group of ``filters``, best first, ``limit`` at a time."""
    query = plan(q, ui_language=ui_language, filters=filters)
    after = _decode(cursor) if cursor else None
    rows = await storage.matching(session, kind=kind, query=query, after=after, limit=limit + 1)
    details = await storage.details(session, [row.document_id for row in rows[:limit]])
    hits = []
    forms = query.all_forms
    for row in rows[:limit]:
        body, codes = details.get(row.document_id, ("", set()))
        terms = tuple(sorted(forms & set(body.split())))
        via = tuple(
            CodeMatch(m.label.vocabulary, m.label.code, m.label.text, m.label.language)
            for _g, _f, found in query.spans
            for m in found
            if m.label.code in codes
        )
        wanted_filters = tuple(sorted(codes & set().union(*query.filters))) if query.filters else ()
        hits.append(
            Hit(row.ref, row.score, row.text_score, row.code_score, terms, via, wanted_filters)
        )
    more = len(rows) > limit
    last = hits[-1] if hits else None
    next_cursor = _encode(last.score, last.ref) if more and last else None
    return Page(hits, next_cursor)
