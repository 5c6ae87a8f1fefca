"""The search index: p50 and p99 of a realistic query mix at 54,000 and at 5,400 documents.

27 peers x 2,000 documents (and a ten times smaller index), generated with a fixed seed across
the 24 EU languages and the vocabularies, inserted in bulk; then a mix of queries (words in
several languages, vocabulary labels, code filters, top 20 with ranking and why-data) timed one
by one on SQLite and, with ``FEDI_TEST_POSTGRES_URL`` set, on PostgreSQL. The ratio line compares
the p99 at 54,000 with the p99 at 5,400 (target <= 8); the SQLite p99 target is 25 ms.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, text

from fedi.db import migrate
from fedi.db.engine import make_async_engine, make_sessionmaker
from fedi.db.models import SearchCode, SearchDocument
from fedi.search import search
from fedi.search.text import EU_LANGUAGES, document_terms
from fedi.testing.databases import postgres_url, temporary_database
from fedi.vocabulary import vocabulary

__all__ = ["main"]

PEERS = 27
PER_PEER = 2_000
SEED = 12
ROUNDS = 200

# A few words per language that documents are written with.
WORDS = {
    "bg": "работа деца младежи обучение партньорство общност",
    "cs": "práce děti mládež vzdělávání partnerství komunita",
    "da": "arbejde børn unge uddannelse partnerskab fællesskab",
    "de": "Arbeit Kinder Jugendliche Bildung Partnerschaft Gemeinschaft",
    "el": "εργασία παιδιά νέοι εκπαίδευση εταιρική κοινότητα",
    "en": "work children youth training partnership community",
    "es": "trabajo niños jóvenes formación asociación comunidad",
    "et": "töö lapsed noored koolitus partnerlus kogukond",
    "fi": "työ lapset nuoret koulutus kumppanuus yhteisö",
    "fr": "travail enfants jeunes formation partenariat communauté",
    "ga": "obair páistí óige oiliúint comhpháirtíocht pobal",
    "hr": "rad djeca mladi obrazovanje partnerstvo zajednica",
    "hu": "munka gyerekek fiatalok képzés partnerség közösség",
    "it": "lavoro bambini giovani formazione partenariato comunità",
    "lt": "darbas vaikai jaunimas mokymas partnerystė bendruomenė",
    "lv": "darbs bērni jaunieši apmācība partnerība kopiena",
    "mt": "xogħol tfal żgħażagħ taħriġ sħubija komunità",
    "nl": "werk kinderen jongeren opleiding partnerschap gemeenschap",
    "pl": "praca dzieci młodzież szkolenia partnerstwo społeczność",
    "pt": "trabalho crianças jovens formação parceria comunidade",
    "ro": "muncă copii tineri formare parteneriat comunitate",
    "sk": "práca deti mládež vzdelávanie partnerstvo komunita",
    "sl": "delo otroci mladi usposabljanje partnerstvo skupnost",
    "sv": "arbete barn ungdomar utbildning partnerskap gemenskap",
}
FILLER = [f"project{n}" for n in range(400)]
QUERIES = [
    ("dzieci", ()),
    ("Kindern", ()),
    ("integrazione dei migranti", ()),
    ("formation", ("FR", "BE", "LU")),
    ("partnership community", ()),
    ("youth employment", ()),
    ("", ("PL",)),
    ("niños", ("social-economy",)),
    ("project17", ()),
    ("Niemcy szkolenia", ()),
]


def _documents(count: int, rng: random.Random) -> list[tuple[dict[str, object], list[str]]]:
    themes = vocabulary("themes").codes
    groups = vocabulary("target-groups").codes
    countries = vocabulary("countries").codes[:27]
    rows = []
    for ref in range(1, count + 1):
        language = EU_LANGUAGES[ref % len(EU_LANGUAGES)]
        own = WORDS[language].split()
        body = rng.sample(own, 3) + rng.sample(FILLER, 8)
        codes = [rng.choice(themes), rng.choice(groups), countries[ref % len(countries)]]
        terms = document_terms([" ".join(body)], language)
        row = {"kind": "offer", "ref": ref, "language": language, "body": terms}
        rows.append((row, codes))
    return rows


async def _load(url: str, rows: list[tuple[dict[str, object], list[str]]]) -> None:
    migrate.upgrade(url)
    engine = make_async_engine(url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            postgresql = session.get_bind().dialect.name == "postgresql"
            for start in range(0, len(rows), 2_000):
                chunk = rows[start : start + 2_000]
                await session.execute(insert(SearchDocument), [row for row, _ in chunk])
            if postgresql:
                await session.execute(
                    text("UPDATE search_documents SET vector = to_tsvector('simple', body)")
                )
            ids = dict(
                (ref, id_)
                for id_, ref in await session.execute(text("SELECT id, ref FROM search_documents"))
            )
            codes = [
                {"document_id": ids[row["ref"]], "code": code}
                for row, row_codes in rows
                for code in row_codes
            ]
            for start in range(0, len(codes), 5_000):
                await session.execute(insert(SearchCode), codes[start : start + 5_000])
            if postgresql:
                await session.execute(text("ANALYZE"))
    finally:
        await engine.dispose()


async def _time(url: str) -> tuple[float, float, int]:
    engine = make_async_engine(url)
    timings = []
    largest = 0
    try:
        async with make_sessionmaker(engine)() as session:
            for q, codes in QUERIES:  # warm up, and the dictionaries loaded
                await search(session, kind="offer", q=q, filters=[set(codes)] if codes else ())
            for n in range(ROUNDS):
                q, codes = QUERIES[n % len(QUERIES)]
                started = time.perf_counter()
                page = await search(
                    session, kind="offer", q=q, filters=[set(codes)] if codes else (), limit=20
                )
                timings.append(time.perf_counter() - started)
                largest = max(largest, len(page.hits))
    finally:
        await engine.dispose()
    timings.sort()
    p50 = statistics.median(timings) * 1000
    p99 = timings[int(len(timings) * 0.99) - 1] * 1000
    return p50, p99, largest


async def _run(backend: str, directory: Path) -> list[str]:
    rng = random.Random(SEED)  # noqa: S311 (a fixed seed for the same documents each run)
    big = _documents(PEERS * PER_PEER, rng)
    small = big[: len(big) // 10]
    figures = {}
    for label, rows in (("5,400", small), ("54,000", big)):
        with temporary_database(backend, directory) as url:
            started = time.perf_counter()
            await _load(url, rows)
            loaded = time.perf_counter() - started
            p50, p99, _ = await _time(url)
            figures[label] = (p50, p99, loaded)
    lines = [
        f"search {backend} {label}: p50 {p50:.1f} ms, p99 {p99:.1f} ms (loaded in {loaded:.1f} s)"
        for label, (p50, p99, loaded) in figures.items()
    ]
    ratio = figures["54,000"][1] / figures["5,400"][1]
    target = "; p99 target <= 25 ms" if backend == "sqlite" else ""
    lines.append(f"search {backend}: p99 ratio 54,000/5,400 {ratio:.2f} (target <= 8{target})")
    return lines


def main() -> list[str]:
    backends = ["sqlite"] + (["postgresql"] if postgres_url() else [])
    lines: list[str] = []
    with tempfile.TemporaryDirectory() as directory:
        for backend in backends:
            lines += asyncio.run(_run(backend, Path(directory)))
    return lines


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    for line in main():
        print(line, flush=True)
