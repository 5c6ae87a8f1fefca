"""interest messages

Revision ID: 0023
Revises: 0019
Create Date: 2026-12-03 09:46:01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "interest_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uri", sa.String(length=2048), nullable=False),
        sa.Column("offer_uri", sa.String(length=2048), nullable=False),
        sa.Column("offer_title", sa.Text(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("sender_id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("organisation_name", sa.Text(), nullable=False),
        sa.Column("organisation_type", sa.String(length=64), nullable=True),
        sa.Column("organisation_country", sa.String(length=2), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("local", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["interest_messages.id"],
            name=op.f("fk_interest_messages_parent_id_interest_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["actors.id"],
            name=op.f("fk_interest_messages_recipient_id_actors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sender_id"],
            ["actors.id"],
            name=op.f("fk_interest_messages_sender_id_actors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interest_messages")),
        sa.UniqueConstraint("uri", name=op.f("uq_interest_messages_uri")),
    )
    op.create_index(
        op.f("ix_interest_messages_offer_uri"), "interest_messages", ["offer_uri"], unique=False
    )
    op.create_index(
        op.f("ix_interest_messages_parent_id"), "interest_messages", ["parent_id"], unique=False
    )
    op.create_index(
        op.f("ix_interest_messages_recipient_id"),
        "interest_messages",
        ["recipient_id"],
        unique=False,
    )
    op.create_index(
        "ix_interest_messages_sender_id_created_at",
        "interest_messages",
        ["sender_id", "created_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_interest_messages_sender_id_created_at", table_name="interest_messages")
    op.drop_index(op.f("ix_interest_messages_recipient_id"), table_name="interest_messages")
    op.drop_index(op.f("ix_interest_messages_parent_id"), table_name="interest_messages")
    op.drop_index(op.f("ix_interest_messages_offer_uri"), table_name="interest_messages")
    op.drop_table("interest_messages")
