"""The lemma dictionaries' tries: built once into the cache directory, then read from it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from fedi.search import dictionaries


def test_prepare_builds_the_missing_tries_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert dictionaries.cache_dir().is_relative_to(tmp_path)
    assert dictionaries.missing(["lv", "sl"]) == ["lv", "sl"]
    done: list[str] = []
    dictionaries.prepare(["lv", "sl"], progress=done.append)
    assert sorted(done) == ["lv", "sl"]
    assert dictionaries.missing(["lv", "sl"]) == []
    built = {path.name: path.stat().st_mtime_ns for path in dictionaries.cache_dir().glob("*.dic")}
    assert set(built) == {"lv.dic", "sl.dic"}

    dictionaries.prepare(["lv", "sl"], progress=done.append)
    assert len(done) == 2  # nothing was rebuilt
    assert {p.name: p.stat().st_mtime_ns for p in dictionaries.cache_dir().glob("*.dic")} == built


def test_a_new_process_reads_a_built_trie_in_milliseconds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    # Danish: big enough that reading it from simplemma's own data takes about a second.
    dictionaries.prepare(["da"])
    script = (
        "import time\n"
        "from fedi.search import dictionaries\n"
        "start = time.process_time()\n"
        "lemma = dictionaries.dictionary_factory(1).get_dictionary('da').get('børnene')\n"
        "print(lemma, time.process_time() - start)\n"
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    lemma, seconds = done.stdout.split()
    assert lemma == "barn"
    assert float(seconds) < 0.3, done.stdout
    assert time.monotonic() - started < 30
