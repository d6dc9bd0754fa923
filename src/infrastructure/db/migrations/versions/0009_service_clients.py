"""service clients: the services that may introspect tokens (RFC 7662), each a name and a secret's digest

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 15:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_clients",
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("secret_digest", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("client_id", name="pk_service_clients"),
        sa.UniqueConstraint("name", name="uq_service_clients_name"),
    )


def downgrade() -> None:
    op.drop_table("service_clients")
