"""objects by thread context

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-04 19:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0028"
down_revision = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The posts of a thread, found by their context: a received thread's replies, and whether a
    # received post is the first of its thread held here.
    op.create_index(op.f("ix_objects_context"), "objects", ["context"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_objects_context"), table_name="objects")
