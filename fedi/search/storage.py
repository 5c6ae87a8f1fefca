"""The two storage back-ends of the index, chosen by the session's dialect: SQLite's FTS5 table
``search_fts`` (bm25) and PostgreSQL's ``tsvector`` column (``ts_rank``). The query text they
run is built here from one :class:`~fedi.search.index.Query`, the score by :mod:`ranking`."""

# The statements are put together from fixed pieces; every value (words, codes, kind, cursor)
# is a bound parameter.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.db.models import SearchCode, SearchDocument
from fedi.search import ranking
from fedi.search.query import Query

__all__ = ["Row", "details", "matching", "vector_value"]


@dataclass(frozen=True, slots=True)
class Row:
    document_id: int
    ref: int
    score: float
    text_score: float
    code_score: float


def _postgresql(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def vector_value(session: AsyncSession, body: str) -> dict[str, Any]:
    """The extra column values a new row needs on this database (the tsvector on PostgreSQL)."""
    return {"vector": func.to_tsvector("simple", body)} if _postgresql(session) else {}


def _any_of(forms: frozenset[str], postgresql: bool) -> str:
    ordered = sorted(forms)
    if postgresql:
        return "(" + " | ".join(ordered) + ")"
    return "(" + " OR ".join(f'"{form}"' for form in ordered) + ")"


def _all_of(groups: Sequence[frozenset[str]], postgresql: bool) -> str:
    return (" & " if postgresql else " AND ").join(_any_of(g, postgresql) for g in groups)


async def matching(
    session: AsyncSession,
    *,
    kind: str,
    query: Query,
    after: tuple[float, int] | None,
    limit: int,
) -> list[Row]:
    postgresql = _postgresql(session)
    params: dict[str, Any] = {"kind": kind, "limit": limit}
    # The documents that match are found through the text index and the codes, and only those
    # are scored. On SQLite the unary plus keeps the planner from walking the kind's index
    # instead, through every document of the kind (54,000 rows for a query that matches 5,000).
    where = ["d.kind = :kind" if postgresql else "+d.kind = :kind"]

    def text_ids(expression: str, name: str) -> str:
        params[name] = expression
        if postgresql:
            return f"SELECT id FROM search_documents WHERE vector @@ to_tsquery('simple', :{name})"
        return f"SELECT rowid FROM search_fts WHERE search_fts MATCH :{name}"

    def code_ids(codes: frozenset[str], name: str) -> str:
        names = []
        for number, code in enumerate(sorted(codes)):
            params[f"{name}_{number}"] = code
            names.append(f":{name}_{number}")
        return "SELECT document_id FROM search_codes WHERE code IN (" + ", ".join(names) + ")"

    if query.groups:
        where.append(f"d.id IN ({text_ids(_all_of(query.groups, postgresql), 'words')})")
    for number, (span_groups, _first, found) in enumerate(query.spans):
        # A span matches when its words are in the text or a label it spells is among the codes.
        spelled = text_ids(_all_of(span_groups, postgresql), f"span{number}")
        tagged = code_ids(frozenset(m.label.code for m in found), f"label{number}")
        where.append(f"d.id IN ({spelled} UNION {tagged})")
    for number, group in enumerate(query.filters):
        where.append(f"d.id IN ({code_ids(group, f'filter{number}')})")

    forms = query.all_forms
    wanted = query.wanted_codes
    if forms:
        params["any"] = _any_of(forms, postgresql)
        if postgresql:
            raw = "ts_rank(d.vector, to_tsquery('simple', :any))::double precision"
            relevance, join = raw, ""
        else:
            relevance = "coalesce(t.r, 0.0)"
            join = (
                "LEFT JOIN (SELECT rowid AS id, -bm25(search_fts) AS r FROM search_fts "
                "WHERE search_fts MATCH :any) t ON t.id = d.id"
            )
    else:
        relevance, join = "0.0", ""
    text_score = f"({relevance}) / (1.0 + ({relevance}))"
    if wanted:
        overlap = (
            code_ids(wanted, "wanted").replace(
                "SELECT document_id FROM search_codes WHERE",
                "(SELECT count(*) FROM search_codes c WHERE c.document_id = d.id AND",
            )
            + ")"
        )
        code_score = f"(1.0 * {overlap} / {len(wanted)})"
    else:
        code_score = "0.0"
    inner = (
        f"SELECT d.id AS document_id, d.ref AS ref, {text_score} AS text_score, "
        f"{code_score} AS code_score FROM search_documents d {join} WHERE " + " AND ".join(where)
    )
    scored = (
        f"SELECT document_id, ref, text_score, code_score, "
        f"{ranking.TEXT_WEIGHT} * text_score + {ranking.CODE_WEIGHT} * code_score AS score "
        f"FROM ({inner}) s"
    )
    keyset = ""
    if after is not None:
        params["after_score"], params["after_ref"] = after
        keyset = " WHERE score < :after_score OR (score = :after_score AND ref > :after_ref)"
    statement = f"SELECT * FROM ({scored}) r{keyset} ORDER BY score DESC, ref LIMIT :limit"
    result = await session.execute(text(statement), params)
    return [
        Row(
            row.document_id, row.ref, float(row.score), float(row.text_score), float(row.code_score)
        )
        for row in result
    ]


async def details(
    session: AsyncSession, document_ids: Sequence[int]
) -> dict[int, tuple[str, set[str]]]:
    """The reduced text and the codes of each of ``document_ids``."""
    if not document_ids:
        return {}
    found: dict[int, tuple[str, set[str]]] = {}
    bodies = await session.execute(
        select(SearchDocument.id, SearchDocument.body).where(SearchDocument.id.in_(document_ids))
    )
    for document_id, body in bodies:
        found[document_id] = (body, set())
    codes = await session.execute(
        select(SearchCode.document_id, SearchCode.code).where(
            SearchCode.document_id.in_(document_ids)
        )
    )
    for document_id, code in codes:
        found[document_id][1].add(code)
    return found
