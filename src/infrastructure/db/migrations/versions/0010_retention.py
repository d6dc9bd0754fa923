"""retention: the indexes the retention job's batched deletes read (docs/adr/0008-retention.md)

- sessions by absolute expiry (never updated) and by revocation time (set once, partial): ended sessions;
- refresh-token history by (session, issue time), replacing the index on session alone, and by issue time:
  spent tokens whose successor is older than the history period;
- reset and verification tokens by expiry.
Notifications (status, created_at) and security events (at) have theirs already.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 01:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

_REVOKED = "revoked_at IS NOT NULL"


def upgrade() -> None:
    op.create_index("ix_sessions_absolute_expires_at", "sessions", ["absolute_expires_at"])
    op.create_index("ix_sessions_revoked_at", "sessions", ["revoked_at"],
                    sqlite_where=sa.text(_REVOKED), postgresql_where=sa.text(_REVOKED))
    op.create_index("ix_refresh_tokens_session_issued", "refresh_tokens", ["session_id", "issued_at"])
    op.drop_index("ix_refresh_tokens_session_id", table_name="refresh_tokens")
    op.create_index("ix_refresh_tokens_issued_at", "refresh_tokens", ["issued_at"])
    op.create_index("ix_account_tokens_expires_at", "account_tokens", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_account_tokens_expires_at", table_name="account_tokens")
    op.drop_index("ix_refresh_tokens_issued_at", table_name="refresh_tokens")
    op.create_index("ix_refresh_tokens_session_id", "refresh_tokens", ["session_id"])
    op.drop_index("ix_refresh_tokens_session_issued", table_name="refresh_tokens")
    op.drop_index("ix_sessions_revoked_at", table_name="sessions")
    op.drop_index("ix_sessions_absolute_expires_at", table_name="sessions")
