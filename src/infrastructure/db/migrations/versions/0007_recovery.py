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
    # Plain ADD COLUMN (SQLite supports it for these columns): a batch "move and copy" would recreate
    # `users`, and on SQLite dropping the old table runs its ON DELETE CASCADE, emptying every table that
    # refers to it (found by tests/integration/test_upgrade_to_recovery.py).
    op.add_column("users", sa.Column("email_verified", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("notifications", sa.Column("recipient", sa.String(320), nullable=True))
    op.add_column("notifications", sa.Column("recipient_verified", sa.Boolean(), nullable=True))
    op.add_column("notifications", sa.Column("sealed_link", sa.Text(), nullable=True))
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
    # The previous release reads every notification's kind and status as one of its own: the kinds and the
    # status this revision added go (a mail that was withheld counts as failed there).
    op.execute("DELETE FROM notifications WHERE kind IN ('password_reset', 'email_verification', "
               "'email_change_requested', 'email_changed', 'account_disabled')")
    op.execute("UPDATE notifications SET status = 'failed' WHERE status = 'withheld'")
    op.drop_table("security_events")
    op.drop_table("account_tokens")
    # Plain DROP COLUMN (SQLite 3.35+), not a batch recreate: see upgrade().
    for table, column in (("notifications", "sealed_link"), ("notifications", "recipient_verified"),
                          ("notifications", "recipient"), ("users", "email_verified")):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
