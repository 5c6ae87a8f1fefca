"""Schema migrations with Alembic, driven from code (``fedi migrate``, tests and ``/readyz``)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from fedi.db.engine import make_sync_engine
from fedi.resources import migrations_dir

__all__ = [
    "MigrationStatus",
    "Readiness",
    "alembic_config",
    "downgrade",
    "head_revision",
    "readiness",
    "status",
    "upgrade",
]


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


@dataclass(frozen=True)
class Readiness:
    """Whether the database answers with its schema at the newest migration; ``reason`` says
    why not; ``read`` tells whether the schema's revision (``current``) could be read."""

    ready: bool
    head: str
    read: bool
    current: str | None = None
    reason: str | None = None


async def readiness(engine: AsyncEngine) -> Readiness:
    """The database's readiness, read through ``engine``."""
    head = head_revision()
    try:
        async with engine.connect() as connection:
            current = (
                await connection.execute(text("SELECT version_num FROM alembic_version"))
            ).scalar_one_or_none()
    except SQLAlchemyError as exc:
        reason = str(exc.orig if hasattr(exc, "orig") else exc).splitlines()[0]
        if "alembic_version" in reason:
            reason = "the database has not been migrated; run `fedi migrate`"
        else:
            reason = f"database unreachable: {reason}"
        return Readiness(False, head, read=False, reason=reason)
    if current != head:
        return Readiness(
            False, head, True, current, reason="migrations are not at head; run `fedi migrate`"
        )
    return Readiness(True, head, True, current)
