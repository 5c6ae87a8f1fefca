"""report resolution

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 00:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outcome", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("resolution_note", sa.Text(), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("resolved_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_reports_resolved_by_id_members"),
            "members",
            ["resolved_by_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index("ix_reports_resolved_at_id", ["resolved_at", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_index("ix_reports_resolved_at_id")
        batch_op.drop_constraint(
            batch_op.f("fk_reports_resolved_by_id_members"), type_="foreignkey"
        )
        batch_op.drop_column("resolved_by_id")
        batch_op.drop_column("resolution_note")
        batch_op.drop_column("outcome")
