"""peering: a peer network's group, and when its offers were last synchronised

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03 13:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("peers") as batch:
        batch.add_column(sa.Column("network_uri", sa.String(length=2048), nullable=True))
        batch.add_column(sa.Column("peered_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("next_sync_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("sync_error", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("peers") as batch:
        for name in ("sync_error", "next_sync_at", "synced_at", "peered_at", "network_uri"):
            batch.drop_column(name)
