"""announce account changes to every worker (Postgres LISTEN/NOTIFY)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 14:50:00

Every UPDATE or DELETE of a `users` row sends `NOTIFY gatehouse_user_changed, '<user id>'` when its
transaction commits, whoever made it (a Gatehouse worker, an operator's SQL). Workers drop their
cached copy of that account on receipt (infrastructure/db/user_cache.py). SQLite has no such
mechanism and no cache: nothing to do there.
"""

from __future__ import annotations

from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

CHANNEL = "gatehouse_user_changed"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"""
        CREATE FUNCTION gatehouse_user_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', OLD.id::text);
            RETURN NULL;
        END
        $$
    """)
    op.execute("""
        CREATE TRIGGER users_changed AFTER UPDATE OR DELETE ON users
        FOR EACH ROW EXECUTE FUNCTION gatehouse_user_changed()
    """)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS users_changed ON users")
    op.execute("DROP FUNCTION IF EXISTS gatehouse_user_changed()")
