"""Scoring a document that is not in the index (an offer a partner instance sent in answer to
a live search) as the index scores its own documents, so that both rank in one list.

The text is reduced as :func:`~fedi.search.index.index_document` reduces it and the query as
:func:`~fedi.search.index.search` plans it; the words found, the labels matched through codes
and the filter codes are the same. The text part of the score cannot be the database's own
measure (bm25 on SQLite, ``ts_rank`` on PostgreSQL: both weigh words against the whole index),
so each occurrence of a query word counts :data:`OCCURRENCE_WEIGHT`, about what one weighs in
``ts_rank``; the code part and the weights are those of :mod:`fedi.search.ranking`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

from fedi.search import ranking
from fedi.search.index import CodeMatch, Hit
from fedi.search.query import plan
from fedi.search.text import EU_LANGUAGES, detect, document_terms

__all__ = ["OCCURRENCE_WEIGHT", "score_document"]

OCCURRENCE_WEIGHT = 0.1


def score_document(
    *,
    q: str,
    filters: Sequence[Collection[str]],
    ui_language: str | None,
    texts: Iterable[str],
    language: str | None,
    codes: Collection[str],
) -> Hit:
    """The :class:`~fedi.search.index.Hit` (``ref`` 0) that a document of ``texts`` in
    ``language``, tagged with ``codes``, would be for query ``q`` and ``filters``."""
    written = [text for text in texts if text]
    if language not in EU_LANGUAGES:
        language = detect(" ".join(written)) if written else "en"
    body = document_terms(written, language).split()
    query = plan(q, ui_language=ui_language, filters=filters)
    forms = query.all_forms
    occurrences = sum(1 for term in body if term in forms)
    text_score = ranking.unit(OCCURRENCE_WEIGHT * occurrences)
    tagged = set(codes)
    code_score = ranking.code_overlap(tagged, query.wanted_codes)
    via = tuple(
        CodeMatch(m.label.vocabulary, m.label.code, m.label.text, m.label.language)
        for _g, _f, found in query.spans
        for m in found
        if m.label.code in tagged
    )
    wanted_filters = tuple(sorted(tagged & set().union(*query.filters))) if query.filters else ()
    return Hit(
        0,
        ranking.combined(text_score, code_score),
        text_score,
        code_score,
        tuple(sorted(forms & set(body))),
        via,
        wanted_filters,
    )
