"""rate-limit counters in the database (shared by every worker when no Redis is configured)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_limits",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_limits")),
    )
    op.create_index("ix_rate_limits_window_started_at", "rate_limits", ["window_started_at"])


def downgrade() -> None:
    op.drop_index("ix_rate_limits_window_started_at", table_name="rate_limits")
    op.drop_table("rate_limits")
