"""Schema migrations with Alembic, driven from code (``fedi migrate``, tests and ``/readyz``)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from fedi.db.engine import make_sync_engine
from fedi.resources import migrations_dir

__all__ = ["MigrationStatus", "alembic_config", "downgrade", "head_revision", "status", "upgrade"]


@dataclass(frozen=True)
class MigrationStatus:
    current: str | None
    head: str

    @property
    def at_head(self) -> bool:
        return self.current == self.head


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["database_url"] = database_url
    return config


@cache
def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    if head is None:
        raise RuntimeError("the migrations folder has no revisions")
    return head


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database to ``revision``; a no-op when it is already there."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def status(database_url: str) -> MigrationStatus:
    engine = make_sync_engine(database_url)
    try:
        with engine.connect() as connection:
            return MigrationStatus(current_revision(connection), head_revision())
    finally:
        engine.dispose()
