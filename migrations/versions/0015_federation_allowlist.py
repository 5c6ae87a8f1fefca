"""federation allowlist

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 00:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "federation_allowlist",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=255), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_allowlist")),
        sa.UniqueConstraint("domain", name=op.f("uq_federation_allowlist_domain")),
    )
    op.create_table(
        "federation_mode",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("allowlist_only", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_mode")),
    )


def downgrade() -> None:
    op.drop_table("federation_mode")
    op.drop_table("federation_allowlist")
