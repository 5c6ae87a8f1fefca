"""Test databases: a SQLite file per test, or a PostgreSQL schema per test.

``FEDI_TEST_POSTGRES_URL`` names a PostgreSQL database (e.g. ``postgresql://postgres@127.0.0.1/test``);
each test gets a fresh schema in it, selected through the connection's ``search_path``, and the
schema is dropped afterwards.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import text

from fedi.db.engine import make_sync_engine

__all__ = ["BACKENDS", "postgres_url", "temporary_database"]

BACKENDS = ("sqlite", "postgresql")


def postgres_url() -> str | None:
    return os.environ.get("FEDI_TEST_POSTGRES_URL") or None


@contextmanager
def temporary_database(backend: str, directory: Path) -> Iterator[str]:
    """Yield the URL of an empty database of ``backend``, removed afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{(directory / f'db-{secrets.token_hex(4)}.sqlite3').as_posix()}"
        return
    base = postgres_url()
    if base is None:
        raise RuntimeError("FEDI_TEST_POSTGRES_URL is not set")
    schema = f"test_{secrets.token_hex(6)}"
    admin = make_sync_engine(base)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        separator = "&" if "?" in base else "?"
        yield f"{base}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
