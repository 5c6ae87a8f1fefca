from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from fedi.db import migrate
from fedi.db.engine import make_sync_engine
from fedi.db.models import Base

EXPECTED_TABLES = {
    "actors",
    "forums",
    "members",
    "api_tokens",
    "objects",
    "activities",
    "follows",
    "deliveries",
    "peers",
    "domain_blocks",
    "federation_allowlist",
    "federation_mode",
    "workers",
    "instance_identity",
    "instance_settings",
    "invites",
    "browser_sessions",
    "login_failures",
    "profiles",
    "notifications",
    "reports",
    "email_messages",
    "object_tags",
    "object_mentions",
    "object_emojis",
    "object_attachments",
    "object_likes",
    "experiences",
    "experience_codes",
    "expert_profiles",
    "expert_questions",
    "media",
    "offers",
    "offer_codes",
    "offer_changes",
    "saved_searches",
    "interest_messages",
    "search_documents",
    "search_codes",
    "threads",
    "thread_replies",
}
# SQLite only: the FTS5 table over search_documents.body and its shadow tables.
SQLITE_TABLES = {f"search_fts{suffix}" for suffix in ("", "_data", "_idx", "_docsize", "_config")}


def _tables(url: str) -> set[str]:
    engine = make_sync_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_to_head_then_down_to_base(database_url: str) -> None:
    assert _tables(database_url) == set()
    migrate.upgrade(database_url)
    extra = SQLITE_TABLES if database_url.startswith("sqlite") else set()
    assert _tables(database_url) == EXPECTED_TABLES | extra
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
            context = MigrationContext.configure(
                connection,
                opts={
                    "compare_type": True,
                    "include_name": lambda name, kind, _parent: (
                        not (kind == "table" and name is not None and name.startswith("search_fts"))
                    ),
                },
            )
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_database_errors_never_show_the_values_of_a_row(migrated_url: str) -> None:
    engine = make_sync_engine(migrated_url)
    secret = "-----BEGIN PRIVATE KEY-----not-for-logs"
    try:
        with engine.begin() as connection:
            statement = text(
                "INSERT INTO actors (uri, type, local, username, domain, display_name, summary,"
                " inbox, manually_approves_followers, indexable, private_key_pem, created_at,"
                " updated_at) VALUES (:u, 'Person', false, 'x', 'x', '', '', 'i', false, true,"
                " :secret, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
            connection.execute(statement, {"u": "https://x.test/a", "secret": secret})
            try:
                connection.execute(statement, {"u": "https://x.test/a", "secret": secret})
            except IntegrityError as exc:
                assert secret not in str(exc)
            else:
                raise AssertionError("a duplicate uri was accepted")
    finally:
        engine.dispose()
