"""administration: roles, disabled accounts, last login; the indexes the admin listings need

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 14:00:00

`roles` holds the account's roles space-separated and sorted (`domain/user.py`: role names have no
spaces), empty for every account that exists now: no account is an admin until an operator makes one
(`gatehouse users set-roles EMAIL admin`). Accounts start `active`.

Indexes: the admin user listing pages by (created_at, id); its address search is a substring match, which
on Postgres a trigram index (pg_trgm, a trusted extension since Postgres 13) answers without reading every
row, and another answers the role filter; the `last_admin` guard counts active admins through a partial
index of exactly them. The admin event listing pages by (at, id) across users.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

# The predicate of the partial index; tables.ACTIVE_ADMIN_SQL is the same expression, so that the
# planner can use it (tests/integration/test_admin_scale.py looks at the plan).
ACTIVE_ADMIN = "status = 'active' AND (' ' || roles || ' ') LIKE '% admin %'"
_CHANGED_BUT_LOGIN = "(to_jsonb(OLD) - 'last_login_at') IS DISTINCT FROM (to_jsonb(NEW) - 'last_login_at')"


def upgrade() -> None:
    # Plain ADD COLUMN, never a batch recreate of `users` (see 0007: on SQLite it empties the tables that
    # refer to it).
    op.add_column("users", sa.Column("roles", sa.String(1300), nullable=False, server_default=""))
    op.add_column("users", sa.Column("status", sa.String(16), nullable=False, server_default="active"))
    op.add_column("users", sa.Column("disabled_reason", sa.String(500), nullable=True))
    op.add_column("users", sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_users_created_at", "users", ["created_at", "id"])
    op.create_index("ix_users_active_admins", "users", ["id"], sqlite_where=sa.text(ACTIVE_ADMIN),
                    postgresql_where=sa.text(ACTIVE_ADMIN))
    op.create_index("ix_security_events_at", "security_events", ["at", "id"])
    if op.get_bind().dialect.name == "postgresql":
        # The account caches' trigger (0002) stays quiet when only the last login changes: a login writes it,
        # and no cached profile shows it (the admin views read the row itself).
        op.execute("DROP TRIGGER users_changed ON users")
        op.execute(f"CREATE TRIGGER users_changed AFTER UPDATE ON users FOR EACH ROW WHEN ({_CHANGED_BUT_LOGIN}) "
                   "EXECUTE FUNCTION gatehouse_user_changed()")
        op.execute("CREATE TRIGGER users_deleted AFTER DELETE ON users FOR EACH ROW "
                   "EXECUTE FUNCTION gatehouse_user_changed()")
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX ix_users_email_trgm ON users USING gin (email gin_trgm_ops)")
        # the role filter matches one whole role in the space-framed column (statements.users_page)
        op.execute("CREATE INDEX ix_users_roles_trgm ON users USING gin ((' ' || roles || ' ') gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER users_deleted ON users")
        op.execute("DROP TRIGGER users_changed ON users")
        op.execute("CREATE TRIGGER users_changed AFTER UPDATE OR DELETE ON users FOR EACH ROW "
                   "EXECUTE FUNCTION gatehouse_user_changed()")
        op.execute("DROP INDEX IF EXISTS ix_users_roles_trgm")
        op.execute("DROP INDEX IF EXISTS ix_users_email_trgm")  # the extension stays: others may use it
    op.drop_index("ix_security_events_at", "security_events")
    op.drop_index("ix_users_active_admins", "users")
    op.drop_index("ix_users_created_at", "users")
    # The previous release has no disabled accounts: what it would do with one is let it in, so a disabled
    # account's sessions (all ended when it was disabled) stay ended and its password is what an admin
    # must reset; nothing else to translate. Plain DROP COLUMN (SQLite 3.35+), not a batch recreate.
    for column in ("last_login_at", "disabled_reason", "status", "roles"):
        op.execute(f"ALTER TABLE users DROP COLUMN {column}")
