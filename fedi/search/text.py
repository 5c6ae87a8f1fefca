"""How text becomes index terms: words, folded letters, and each word reduced to a common form.

One code path for indexing and for queries, whatever the database: :func:`words` splits text
into words, :func:`reduce` gives a word's common form in a language (simplemma's lemma; the
Croatian lemma from its Serbo-Croatian data), :func:`fold` removes case and diacritics
(including the letters Unicode does not decompose, such as ł ø đ ħ æ œ þ ð, and ß as ss).
:func:`detect` names a text's language, offline, among the 24 official EU languages.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from functools import cache, lru_cache

from fedi.search import dictionaries

__all__ = [
    "EU_LANGUAGES",
    "LEMMATISED",
    "detect",
    "dictionaries_ready",
    "document_terms",
    "fold",
    "load_models",
    "prepare_dictionaries",
    "query_forms",
    "reduce",
    "words",
]

# The 24 official languages of the EU, ISO 639-1.
EU_LANGUAGES = (
    "bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "ga", "hr",
    "hu", "it", "lt", "lv", "mt", "nl", "pl", "pt", "ro", "sk", "sl", "sv",
)  # fmt: skip

# simplemma's data set for each language it lemmatises; Croatian is read from the
# Serbo-Croatian ("hbs") data. Maltese has none: its words are indexed folded, as written.
_SIMPLEMMA = {code: code for code in EU_LANGUAGES if code not in ("hr", "mt")} | {"hr": "hbs"}
LEMMATISED = frozenset(_SIMPLEMMA)

# Letters NFKD does not split into a base letter and a mark.
_LETTERS = str.maketrans(
    {"ł": "l", "ø": "o", "đ": "d", "ħ": "h", "\u0131": "i"}
    | {"æ": "ae", "œ": "oe", "þ": "th", "ð": "d"}
)
_WORD = re.compile(r"[^\W_]+")


def fold(word: str) -> str:
    """``word`` without case and diacritics: ``Łódź`` → ``lodz``, ``Straße`` → ``strasse``."""
    decomposed = unicodedata.normalize("NFKD", word.casefold().translate(_LETTERS))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).translate(_LETTERS)


def words(text: str) -> list[str]:
    """The words of ``text``, case-folded (letters and digits; apostrophes and hyphens split)."""
    return _WORD.findall(text.casefold())


@cache
def _lemmatizer() -> object:
    from simplemma import Lemmatizer
    from simplemma.strategies import DefaultStrategy

    # Every language's dictionary stays loaded once read: queries try all of them.
    factory = dictionaries.dictionary_factory(len(_SIMPLEMMA))
    return Lemmatizer(lemmatization_strategy=DefaultStrategy(dictionary_factory=factory))


def prepare_dictionaries(progress: Callable[[str], None] | None = None) -> None:
    """Build the dictionaries' tries that are missing (once per machine and simplemma
    version), so that no query waits for them; ``progress`` hears of each language done."""
    dictionaries.prepare(sorted(set(_SIMPLEMMA.values())), progress=progress)


def load_models() -> None:
    """Read the language identifier's model and open every language's dictionary now."""
    _identifier()
    _lemmatizer()


def dictionaries_ready() -> bool:
    """Whether every language's trie is built."""
    return not dictionaries.missing(sorted(set(_SIMPLEMMA.values())))


@lru_cache(maxsize=200_000)
def reduce(word: str, language: str) -> str:
    """The folded common form of the (case-folded) ``word`` in ``language``; the folded word
    itself for a language without data or a word the data does not know."""
    data = _SIMPLEMMA.get(language)
    if data is None:
        return fold(word)
    lemma: str = _lemmatizer().lemmatize(word, lang=data)  # type: ignore[attr-defined]
    return fold(lemma.casefold())


@cache
def _identifier() -> object:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(EU_LANGUAGES))
    return identifier


def detect(text: str) -> str:
    """The most likely of :data:`EU_LANGUAGES` for ``text`` (offline, py3langid)."""
    language, _probability = _identifier().classify(text)  # type: ignore[attr-defined]
    return str(language)


def document_terms(fields: Iterable[str], language: str) -> str:
    """The index text of a document in ``language``: each word's common form and, where it
    differs, the word as written (folded), so that a query typed without diacritics, or a word
    the language's data does not know (Maltese, some Croatian), still finds it."""
    terms: list[str] = []
    for field in fields:
        for word in words(field):
            reduced = reduce(word, language)
            terms.append(reduced)
            folded = fold(word)
            if folded != reduced:
                terms.append(folded)
    return " ".join(terms)


def query_forms(word: str, languages: Sequence[str]) -> frozenset[str]:
    """Every form a query ``word`` may have in the index: its folded self and its common
    form in each of ``languages``."""
    return frozenset({fold(word), *(reduce(word, language) for language in languages)})
