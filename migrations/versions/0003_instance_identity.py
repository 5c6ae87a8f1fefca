"""instance identity

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 19:15:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The row itself is written by `fedi migrate` (fedi.db.identity), which knows FEDI_BASE_URL.
    op.create_table(
        "instance_identity",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("base_url", sa.String(length=2048), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_instance_identity_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instance_identity")),
    )


def downgrade() -> None:
    op.drop_table("instance_identity")
