"""search index

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 23:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "search_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("ref", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("vector", postgresql.TSVECTOR().with_variant(sa.Text(), "sqlite"), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_documents")),
        sa.UniqueConstraint("kind", "ref", name="uq_search_documents_kind_ref"),
    )
    op.create_index(
        "ix_search_documents_vector",
        "search_documents",
        ["vector"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_table(
        "search_codes",
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["search_documents.id"],
            name=op.f("fk_search_codes_document_id_search_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("document_id", "code", name=op.f("pk_search_codes")),
    )
    op.create_index(
        "ix_search_codes_code_document_id", "search_codes", ["code", "document_id"], unique=False
    )
    if op.get_bind().dialect.name == "sqlite":
        # The words are reduced and folded before they are stored: unicode61 only splits them.
        op.execute(
            "CREATE VIRTUAL TABLE search_fts USING fts5(body, content='search_documents', "
            "content_rowid='id', tokenize='unicode61 remove_diacritics 0')"
        )
        op.execute(
            "CREATE TRIGGER search_documents_ai AFTER INSERT ON search_documents BEGIN "
            "INSERT INTO search_fts(rowid, body) VALUES (new.id, new.body); END"
        )
        op.execute(
            "CREATE TRIGGER search_documents_ad AFTER DELETE ON search_documents BEGIN "
            "INSERT INTO search_fts(search_fts, rowid, body) VALUES ('delete', old.id, old.body);"
            " END"
        )
        op.execute(
            "CREATE TRIGGER search_documents_au AFTER UPDATE OF body ON search_documents BEGIN "
            "INSERT INTO search_fts(search_fts, rowid, body) VALUES ('delete', old.id, old.body);"
            " INSERT INTO search_fts(rowid, body) VALUES (new.id, new.body); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS search_documents_au")
        op.execute("DROP TRIGGER IF EXISTS search_documents_ad")
        op.execute("DROP TRIGGER IF EXISTS search_documents_ai")
        op.execute("DROP TABLE IF EXISTS search_fts")
    op.drop_index("ix_search_codes_code_document_id", table_name="search_codes")
    op.drop_table("search_codes")
    op.drop_index("ix_search_documents_vector", table_name="search_documents")
    op.drop_table("search_documents")
