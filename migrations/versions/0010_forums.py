"""forums

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 23:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "forums",
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["actors.id"], name=op.f("fk_forums_actor_id_actors"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("actor_id", name=op.f("pk_forums")),
    )


def downgrade() -> None:
    op.drop_table("forums")
