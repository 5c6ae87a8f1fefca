"""The data directory (0700), the SQLite files and the secret key (0600): on creation, and
tightened at start when an earlier release left them readable by others."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from fedi.db import migrate
from fedi.db.engine import make_sync_engine
from fedi.settings import load_settings


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    """The umask most systems give a service: 022, under which files are made world-readable."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def start(data_dir: Path) -> str:
    """Load the settings and open the database as every command does; the database's URL."""
    settings = load_settings({"FEDI_DATA_DIR": str(data_dir)})
    migrate.upgrade(settings.database_url)
    return settings.database_url


def test_a_new_data_directory_and_its_files_are_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    url = start(data_dir)
    assert mode(data_dir) == 0o700
    assert mode(data_dir / "secret_key") == 0o600
    assert mode(data_dir / "fedi.sqlite3") == 0o600
    engine = make_sync_engine(url)
    try:
        with engine.begin() as connection:  # WAL mode: the -wal and -shm files exist meanwhile
            connection.execute(text("CREATE TABLE scratch (x INTEGER)"))
            for name in ("fedi.sqlite3-wal", "fedi.sqlite3-shm"):
                assert mode(data_dir / name) == 0o600, name
    finally:
        engine.dispose()


def test_readable_files_left_by_an_earlier_release_are_tightened_at_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data_dir = tmp_path / "var"
    start(data_dir)
    loose = {
        data_dir: 0o755,
        data_dir / "secret_key": 0o644,
        data_dir / "fedi.sqlite3": 0o644,
        data_dir / "fedi.sqlite3-wal": 0o666,
    }
    (data_dir / "fedi.sqlite3-wal").touch()
    for path, loose_mode in loose.items():
        path.chmod(loose_mode)
    with caplog.at_level(logging.WARNING, logger="fedi.files"):
        start(data_dir)
    assert mode(data_dir) == 0o700
    for path in (data_dir / "secret_key", data_dir / "fedi.sqlite3"):
        assert mode(path) == 0o600, path
    tightened = [r for r in caplog.records if r.name == "fedi.files"]
    assert f"permissions of {data_dir} tightened from 0755 to 0700" in caplog.messages
    assert sorted(r.fields["path"] for r in tightened) == sorted(str(p) for p in loose)  # type: ignore[attr-defined]
    assert {r.fields["was"] for r in tightened} == {"0755", "0644", "0666"}  # type: ignore[attr-defined]
