"""forum threads

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-03 13:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "threads",
        sa.Column("object_id", sa.Integer(), nullable=False),
        sa.Column("forum_id", sa.Integer(), nullable=False),
        sa.Column("last_activity", sa.DateTime(timezone=True), nullable=False),
        sa.Column("solution_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["forum_id"], ["actors.id"], name=op.f("fk_threads_forum_id_actors"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["object_id"],
            ["objects.id"],
            name=op.f("fk_threads_object_id_objects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["solution_id"],
            ["objects.id"],
            name=op.f("fk_threads_solution_id_objects"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("object_id", name=op.f("pk_threads")),
    )
    with op.batch_alter_table("threads", schema=None) as batch_op:
        batch_op.create_index(
            "ix_threads_forum_id_last_activity", ["forum_id", "last_activity"], unique=False
        )

    op.create_table(
        "thread_replies",
        sa.Column("object_id", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["object_id"],
            ["objects.id"],
            name=op.f("fk_thread_replies_object_id_objects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["threads.object_id"],
            name=op.f("fk_thread_replies_thread_id_threads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("object_id", name=op.f("pk_thread_replies")),
    )
    with op.batch_alter_table("thread_replies", schema=None) as batch_op:
        batch_op.create_index(
            "ix_thread_replies_thread_id_object_id", ["thread_id", "object_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("thread_replies", schema=None) as batch_op:
        batch_op.drop_index("ix_thread_replies_thread_id_object_id")
    op.drop_table("thread_replies")
    with op.batch_alter_table("threads", schema=None) as batch_op:
        batch_op.drop_index("ix_threads_forum_id_last_activity")
    op.drop_table("threads")
