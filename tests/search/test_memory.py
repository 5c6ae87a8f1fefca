"""Scoring a document held nowhere (a partner's live answer) as the index scores its own: the
same words found, the same labels matched through codes, the same filter codes, and more
occurrences of the query's words ranking higher."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from fedi.search import index_document, search
from fedi.search.memory import score_document


async def test_a_document_in_memory_matches_as_the_index_matches_it(
    session: AsyncSession,
) -> None:
    texts = ["Neue Nachbarn in Leipzig", "Sprachkurse und Beratung"]
    codes = ("migrant-integration", "country:DE")
    await index_document(
        session,
        kind="offer",
        ref=1,
        fields={str(n): text for n, text in enumerate(texts)},
        language="de",
        codes=codes,
    )
    await session.commit()
    for q, filters in (("integrazione dei migranti", []), ("Leipzig", [{"country:DE"}])):
        (indexed,) = (await search(session, kind="offer", q=q, filters=filters)).hits
        held = score_document(
            q=q, filters=filters, ui_language=None, texts=texts, language="de", codes=codes
        )
        assert held.ref == 0
        assert (held.terms, held.codes, held.filters) == (
            indexed.terms,
            indexed.codes,
            indexed.filters,
        )
        assert held.code_score == indexed.code_score
        assert 0 < held.score <= 1


def test_more_of_the_query_ranks_higher_and_none_scores_nothing() -> None:
    def score(text: str) -> tuple[float, tuple[str, ...]]:
        hit = score_document(
            q="mentoring", filters=[], ui_language="en", texts=[text], language="en", codes=()
        )
        return hit.text_score, hit.terms

    once, thrice, never = (
        score("mentoring for young people"),
        score("mentoring mentoring mentoring"),
        score("cooking for young people"),
    )
    assert 0 < once[0] < thrice[0] < 1
    assert once[1] == thrice[1] and "mentor" in once[1]
    assert never == (0.0, ())
