"""account recovery: proven addresses, reset and verification tokens, the security log, sealed mail links

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 12:40:00

Accounts that exist before this revision start unverified, as new ones do: nobody has proven their
address yet. (With the SMTP notifier they are then mailed only verification and reset mail until they
confirm one; `POST /users/me/email-verification` sends a link.)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("email_verified", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("notifications") as batch:
        batch.add_column(sa.Column("recipient", sa.String(320), nullable=True))
        batch.add_column(sa.Column("recipient_verified", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("sealed_link", sa.Text(), nullable=True))
    op.create_table(
        "account_tokens",
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("spent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_account_tokens_user_id_users", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("digest", name="pk_account_tokens"),
    )
    op.create_index("ix_account_tokens_user_kind", "account_tokens", ["user_id", "kind"])
    op.create_table(
        "security_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(16), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("ip", sa.String(64), nullable=True),
        sa.Column("user_agent", sa.String(512), nullable=True),
        sa.Column("session_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_security_events"),
    )
    op.create_index("ix_security_events_user_at", "security_events", ["user_id", "at", "id"])


def downgrade() -> None:
    op.drop_table("security_events")
    op.drop_table("account_tokens")
    with op.batch_alter_table("notifications") as batch:
        batch.drop_column("sealed_link")
        batch.drop_column("recipient_verified")
        batch.drop_column("recipient")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("email_verified")
