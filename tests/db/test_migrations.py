from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from fedi.db import migrate
from fedi.db.engine import make_sync_engine
from fedi.db.models import Base

EXPECTED_TABLES = {
    "actors",
    "members",
    "api_tokens",
    "objects",
    "activities",
    "follows",
    "deliveries",
    "peers",
    "domain_blocks",
}


def _tables(url: str) -> set[str]:
    engine = make_sync_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_to_head_then_down_to_base(database_url: str) -> None:
    assert _tables(database_url) == set()
    migrate.upgrade(database_url)
    assert _tables(database_url) == EXPECTED_TABLES
    assert migrate.status(database_url).at_head
    migrate.downgrade(database_url, "base")
    assert _tables(database_url) == set()
    assert migrate.status(database_url).current is None


def test_upgrade_is_idempotent(database_url: str) -> None:
    migrate.upgrade(database_url)
    migrate.upgrade(database_url)
    state = migrate.status(database_url)
    assert state.current == state.head


def test_models_and_migrations_agree(migrated_url: str) -> None:
    engine = make_sync_engine(migrated_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []
