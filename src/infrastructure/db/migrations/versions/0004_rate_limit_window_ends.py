"""rate-limit counters say when their window ends, so limits with different windows share the table

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 07:30:00

The counters are recreated empty: a window open at the upgrade starts again (counters live at most one
window; the login limit's default is 15 minutes).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def _create(column: str) -> None:
    op.create_table(
        "rate_limits",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column(column, sa.DateTime(timezone=True), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_limits")),
    )
    op.create_index(f"ix_rate_limits_{column}", "rate_limits", [column])


def _drop(column: str) -> None:
    op.drop_index(f"ix_rate_limits_{column}", table_name="rate_limits")
    op.drop_table("rate_limits")


def upgrade() -> None:
    _drop("window_started_at")
    _create("window_ends_at")


def downgrade() -> None:
    _drop("window_ends_at")
    _create("window_started_at")
