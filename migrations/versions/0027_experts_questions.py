"""questions to experts

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-04 19:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "expert_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uri", sa.String(length=2048), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("sender_id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("local", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["expert_questions.id"],
            name=op.f("fk_expert_questions_parent_id_expert_questions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["actors.id"],
            name=op.f("fk_expert_questions_recipient_id_actors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sender_id"],
            ["actors.id"],
            name=op.f("fk_expert_questions_sender_id_actors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_expert_questions")),
        sa.UniqueConstraint("uri", name=op.f("uq_expert_questions_uri")),
    )
    op.create_index(
        op.f("ix_expert_questions_parent_id"), "expert_questions", ["parent_id"], unique=False
    )
    op.create_index(
        op.f("ix_expert_questions_recipient_id"),
        "expert_questions",
        ["recipient_id"],
        unique=False,
    )
    op.create_index(
        "ix_expert_questions_sender_id_created_at",
        "expert_questions",
        ["sender_id", "created_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_expert_questions_sender_id_created_at", table_name="expert_questions")
    op.drop_index(op.f("ix_expert_questions_recipient_id"), table_name="expert_questions")
    op.drop_index(op.f("ix_expert_questions_parent_id"), table_name="expert_questions")
    op.drop_table("expert_questions")
