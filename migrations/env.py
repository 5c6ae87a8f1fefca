"""Alembic environment: runs migrations for the database named by the caller or by the settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from fedi.db.engine import make_sync_engine
from fedi.db.models import Base, UTCDateTime

config = context.config


def _database_url() -> str:
    url = config.attributes.get("database_url")
    if url:
        return str(url)
    # Run as plain `alembic ...` from a checkout: use the instance's settings.
    from fedi.settings import load_settings

    return load_settings().database_url


def _render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    # Our UTCDateTime is a TypeDecorator over DateTime(timezone=True): migrations use the plain type.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,
        render_item=_render_item,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_sync_engine(_database_url())
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run `fedi migrate`")
run_migrations_online()
