"""Test databases: a SQLite file per test, or a PostgreSQL schema or database per test.

``FEDI_TEST_POSTGRES_URL`` names a PostgreSQL database (e.g. ``postgresql://postgres@127.0.0.1/test``).
An empty database (:func:`temporary_database`) is a fresh schema in it, selected through the
connection's ``search_path``; a migrated one (:func:`migrated_database`) is a copy of a template
that the process migrated once: a file copy on SQLite, ``CREATE DATABASE ... TEMPLATE`` on
PostgreSQL. Each is removed after the test.
"""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url

from fedi.db import migrate
from fedi.db.engine import make_sync_engine

__all__ = ["BACKENDS", "migrated_database", "postgres_url", "temporary_database"]

BACKENDS = ("sqlite", "postgresql")


def postgres_url() -> str | None:
    return os.environ.get("FEDI_TEST_POSTGRES_URL") or None


def _require_postgres() -> str:
    base = postgres_url()
    if base is None:
        raise RuntimeError("FEDI_TEST_POSTGRES_URL is not set")
    return base


@contextmanager
def temporary_database(backend: str, directory: Path) -> Iterator[str]:
    """Yield the URL of an empty database of ``backend``, removed afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{(directory / f'db-{secrets.token_hex(4)}.sqlite3').as_posix()}"
        return
    base = _require_postgres()
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


@contextmanager
def migrated_database(backend: str, directory: Path) -> Iterator[str]:
    """Yield the URL of a database of ``backend`` at the newest migration, removed afterwards."""
    if backend == "sqlite":
        path = directory / f"db-{secrets.token_hex(4)}.sqlite3"
        shutil.copyfile(_sqlite_template(), path)
        yield f"sqlite:///{path.as_posix()}"
        return
    admin, template = _postgres_template()
    name = f"fedi_test_{secrets.token_hex(6)}"
    with _autocommit(admin) as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield make_url(_require_postgres()).set(database=name).render_as_string(hide_password=False)
    finally:
        with _autocommit(admin) as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# Each process migrates one template per backend, on first use, and removes it when it exits.
_sqlite_file: Path | None = None
_postgres: tuple[Engine, str] | None = None


def _sqlite_template() -> Path:
    global _sqlite_file
    if _sqlite_file is None:
        folder = Path(tempfile.mkdtemp(prefix="fedi-template-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        path = folder / "template.sqlite3"
        migrate.upgrade(f"sqlite:///{path.as_posix()}")
        _sqlite_file = path
    return _sqlite_file


def _postgres_template() -> tuple[Engine, str]:
    global _postgres
    if _postgres is None:
        base = _require_postgres()
        admin = make_sync_engine(base)
        name = f"fedi_template_{secrets.token_hex(6)}"
        with _autocommit(admin) as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        atexit.register(_drop_template, admin, name)
        migrate.upgrade(make_url(base).set(database=name).render_as_string(hide_password=False))
        _postgres = (admin, name)
    return _postgres


def _drop_template(admin: Engine, name: str) -> None:
    with _autocommit(admin) as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@contextmanager
def _autocommit(engine: Engine) -> Iterator[Connection]:
    # CREATE and DROP DATABASE cannot run inside a transaction.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        yield connection
