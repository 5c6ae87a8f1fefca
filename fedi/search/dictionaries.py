"""simplemma's dictionaries, read from tries kept on disk so that a process loads them in
milliseconds.

simplemma ships each language's dictionary compressed; reading all the EU languages into
memory takes 20 to 50 s of CPU, which every new process would pay on its first query. Its
``TrieDictionaryFactory`` (the ``marisa-trie`` extra) builds each language's trie once and
keeps it in a cache directory; later processes map the file and are ready at once.

:func:`prepare` builds whatever is missing, several languages in parallel, and is called
before a server or worker starts (and by the test suite) so that no request waits for a build.
A build takes a per-language file lock, so two processes starting together build each trie
once and the second one waits and reads it.
"""

from __future__ import annotations

import fcntl
import multiprocessing
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from platformdirs import user_cache_dir
from simplemma.__metadata__ import __version__ as SIMPLEMMA_VERSION
from simplemma.strategies.dictionaries.trie_dictionary_factory import TrieDictionaryFactory

__all__ = ["cache_dir", "dictionary_factory", "missing", "prepare"]


def cache_dir() -> Path:
    """The directory of this simplemma version's tries, in the user's cache directory
    (``XDG_CACHE_HOME``, by default ``~/.cache``)."""
    return Path(user_cache_dir("transnationality")) / "simplemma" / SIMPLEMMA_VERSION


@contextmanager
def _locked(language: str) -> Iterator[None]:
    directory = cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / f"{language}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


class _LockedTries(TrieDictionaryFactory):
    """simplemma's trie factory, building each language under its file lock."""

    def _get_dictionary_uncached(self, lang: str) -> Mapping[str, str]:
        with _locked(lang):
            return super()._get_dictionary_uncached(lang)


@cache
def dictionary_factory(languages: int) -> TrieDictionaryFactory:
    """The process's one factory, keeping ``languages`` dictionaries loaded."""
    return _LockedTries(cache_max_size=languages, disk_cache_dir=str(cache_dir()))


def missing(languages: Sequence[str]) -> list[str]:
    """The simplemma data sets among ``languages`` whose trie is not built yet."""
    directory = cache_dir()
    return [language for language in languages if not (directory / f"{language}.dic").exists()]


def _build(language: str) -> str:
    dictionary_factory(1).get_dictionary(language)
    return language


def prepare(languages: Sequence[str], *, progress: Callable[[str], None] | None = None) -> None:
    """Build the tries of ``languages`` that are missing, two processes at a time; ``progress``
    hears of each language as it is done."""
    todo = missing(languages)
    if not todo:
        return
    # Spawned, not forked: the caller may already run threads.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(2, len(todo)), mp_context=context) as pool:
        for language in pool.map(_build, todo):
            if progress is not None:
                progress(language)
