"""The search index on real SQLite (FTS5) and PostgreSQL (tsvector) databases."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.errors import ValidationError
from fedi.search import index_document, remove_document, search
from fedi.search.text import EU_LANGUAGES, fold

# Per language: a document written with one form of a word, a query with another form.
INFLECTED = {
    "bg": ("Работа с деца", "дете"),
    "cs": ("Práce s dětmi a pro děti", "dětí"),
    "da": ("Arbejde med børnene", "barn"),
    "de": ("Arbeit mit dem Kind", "Kindern"),
    "el": ("Εργασία με παιδιά", "παιδιών"),
    "en": ("Working with a child", "children"),
    "es": ("Trabajo con el niño", "niños"),
    "et": ("Töö lastele", "laps"),
    "fi": ("Työ lapsille", "lapsi"),
    "fr": ("Travail avec un enfant", "enfants"),
    "ga": ("Obair le páiste", "páistí"),
    "hr": ("Rad s djecom", "djeca"),
    "hu": ("Munka a gyerekeknek", "gyerek"),
    "it": ("Lavoro con il bambino", "bambini"),
    "lt": ("Darbas su vaikams", "vaikas"),
    "lv": ("Darbs ar bērniem", "bērns"),
    # No lemma data for Maltese: the word as written, found whatever its diacritics.
    "mt": ("Xogħol mat-tfal", "xoghol"),
    "nl": ("Werken met kinderen", "kind"),
    "pl": ("Praca z migranci", "migrantów"),
    "pt": ("Trabalho com crianças", "criança"),
    "ro": ("Munca pentru copiilor", "copil"),
    "sk": ("Práca s dieťa", "deťom"),
    "sl": ("Delo z otrokom", "otrok"),
    "sv": ("Arbete med barnen", "barn"),
}


def test_every_eu_language_has_a_case() -> None:
    assert set(INFLECTED) == set(EU_LANGUAGES)


async def _refs(session: AsyncSession, **query: object) -> list[int]:
    page = await search(session, kind="offer", **query)  # type: ignore[arg-type]
    return [hit.ref for hit in page.hits]


async def test_an_inflected_form_finds_another_form_in_every_language(
    session: AsyncSession,
) -> None:
    languages = sorted(INFLECTED)
    for ref, language in enumerate(languages, start=1):
        document, _query = INFLECTED[language]
        await index_document(
            session, kind="offer", ref=ref, fields={"title": document}, language=language, codes=()
        )
    await index_document(
        session, kind="offer", ref=100, fields={"title": "Nothing related"}, language="en", codes=()
    )
    await session.commit()
    for ref, language in enumerate(languages, start=1):
        _document, query = INFLECTED[language]
        found = await _refs(session, q=query)
        assert ref in found, (language, query, found)
        assert 100 not in found


def test_folding_covers_letters_unicode_does_not_split() -> None:
    assert fold("Łódź") == "lodz"
    assert fold("Søren") == "soren"
    assert fold("Straße") == "strasse"
    assert fold("Đakovo") == "dakovo"
    assert fold("Ħamrun") == "hamrun"
    assert fold("żółć") == "zolc"


async def test_queries_without_diacritics_find_words_with_them(session: AsyncSession) -> None:
    await index_document(
        session, kind="offer", ref=1, fields={"title": "Spotkanie w Łodzi"}, language="pl", codes=()
    )
    await index_document(
        session, kind="offer", ref=2, fields={"title": "Đakovo i Osijek"}, language="hr", codes=()
    )
    await index_document(
        session, kind="offer", ref=3, fields={"title": "Møde i Århus"}, language="da", codes=()
    )
    await index_document(
        session, kind="offer", ref=4, fields={"title": "Große Straße"}, language="de", codes=()
    )
    await session.commit()
    assert await _refs(session, q="lodzi") == [1]
    assert await _refs(session, q="dakovo") == [2]
    assert await _refs(session, q="arhus") == [3]
    assert await _refs(session, q="strasse") == [4]


async def test_a_label_in_any_language_matches_the_tagged_code(session: AsyncSession) -> None:
    # Written in German without the words of the label; tagged with the theme.
    await index_document(
        session,
        kind="offer",
        ref=1,
        fields={"title": "Neue Nachbarn in Leipzig", "body": "Sprachkurse und Beratung"},
        language="de",
        codes=("migrant-integration", "DE"),
    )
    await index_document(
        session,
        kind="offer",
        ref=2,
        fields={"title": "Youth employment in Porto"},
        language="en",
        codes=("youth-employment", "PT"),
    )
    await session.commit()
    for query in ("integracja migrantów", "integrazione dei migranti", "Integration of migrants"):
        page = await search(session, kind="offer", q=query)
        assert [hit.ref for hit in page.hits] == [1], query
        (via,) = {(m.vocabulary, m.code) for m in page.hits[0].codes}
        assert via == ("themes", "migrant-integration")
    page = await search(session, kind="offer", q="Niemcy")
    assert [hit.ref for hit in page.hits] == [1]
    assert page.hits[0].codes[0].code == "DE"
    assert page.hits[0].codes[0].language == "pl"
    # A label and a word: the word must be in the text too.
    assert await _refs(session, q="Niemcy Leipzig") == [1]
    assert await _refs(session, q="Niemcy Porto") == []


async def test_filters_and_ranking(session: AsyncSession) -> None:
    await index_document(
        session, kind="offer", ref=1, fields={"t": "mentoring for young people"},
        language="en", codes=("youth-employment", "PL"),
    )  # fmt: skip
    await index_document(
        session, kind="offer", ref=2, fields={"t": "mentoring mentoring mentoring"},
        language="en", codes=("social-economy", "IT"),
    )  # fmt: skip
    await index_document(
        session, kind="experience", ref=3, fields={"t": "mentoring"}, language="en", codes=()
    )
    await session.commit()
    assert await _refs(session, q="mentoring", filters=[{"PL", "DE"}]) == [1]
    assert await _refs(session, q="mentoring", filters=[{"PL"}, {"social-economy"}]) == []
    page = await search(session, kind="offer", q="mentoring")
    assert {hit.ref for hit in page.hits} == {1, 2}
    for hit in page.hits:
        assert 0 < hit.text_score < 1
        assert "mentor" in hit.terms  # the common form of "mentoring"
    assert page.hits[0].ref == 2  # the word three times
    # The same query plus a label the first document is tagged with puts it first.
    page = await search(session, kind="offer", q="mentoring youth employment")
    assert [hit.ref for hit in page.hits] == [1]
    assert page.hits[0].code_score == 1.0


async def test_paging_is_stable_and_complete(session: AsyncSession) -> None:
    for ref in range(1, 26):
        words = " ".join(["volunteer"] * (ref % 4 + 1))
        await index_document(
            session, kind="offer", ref=ref, fields={"t": words}, language="en", codes=()
        )
    await session.commit()
    seen: list[int] = []
    cursor = None
    while True:
        page = await search(session, kind="offer", q="volunteers", limit=7, cursor=cursor)
        seen += [hit.ref for hit in page.hits]
        scores = [hit.score for hit in page.hits]
        assert scores == sorted(scores, reverse=True)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert sorted(seen) == list(range(1, 26))
    assert len(seen) == 25
    with pytest.raises(ValidationError):
        await search(session, kind="offer", q="volunteers", cursor="not-a-cursor")


async def test_reindexing_and_removing(session: AsyncSession) -> None:
    await index_document(
        session, kind="offer", ref=1, fields={"t": "bakery"}, language="en", codes=("PL",)
    )
    await index_document(
        session, kind="offer", ref=1, fields={"t": "library"}, language="en", codes=("IT",)
    )
    await session.commit()
    assert await _refs(session, q="bakery") == []
    assert await _refs(session, q="library") == [1]
    assert await _refs(session, filters=[{"PL"}]) == []
    await remove_document(session, "offer", 1)
    await session.commit()
    assert await _refs(session, q="library") == []
    assert await _refs(session, filters=[{"IT"}]) == []


async def test_the_language_is_detected_when_not_given(session: AsyncSession) -> None:
    await index_document(
        session, kind="offer", ref=1,
        fields={"t": "Szukamy partnerów do projektu dla migrantów w województwie"},
        language=None, codes=(),
    )  # fmt: skip
    await session.commit()
    assert await _refs(session, q="migranci") == [1]
