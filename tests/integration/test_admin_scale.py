"""The admin listing and the `last_admin` count stay index lookups as accounts grow (Postgres): their
statements, prepared as the asyncpg runner prepares them, are planned on the indexes of migration 0008 over
a table of 100,000 accounts. (Measured at a million, with and without the indexes: docs/PERFORMANCE.md.)"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.sql import Executable

from infrastructure.db import statements as sql
from infrastructure.db.asyncpg_runner import compile_for_asyncpg
from infrastructure.db.migrate import upgrade

pytestmark = pytest.mark.postgres
SEED = """
INSERT INTO users (id, email, password_hash, created_at, updated_at, email_verified, roles, status)
SELECT gen_random_uuid(), 'user' || g || '-' || md5(g::text) || '@example' || (g % 1000) || '.com', 'x',
       now() - (100000 - g) * interval '1 second', now(), g % 3 = 0,
       CASE WHEN g % 20000 = 0 THEN 'admin' WHEN g % 50 = 0 THEN 'support' ELSE '' END,
       CASE WHEN g % 97 = 0 THEN 'disabled' ELSE 'active' END
FROM generate_series(1, 100000) g
"""


async def _plan(conn: asyncpg.Connection[Any], statement: Executable, params: dict[str, Any]) -> str:
    compiled = compile_for_asyncpg(statement)  # as the runner sends it
    return "\n".join(row[0] for row in await conn.fetch("EXPLAIN " + compiled.sql, *compiled.args(params)))


async def test_the_admin_queries_use_their_indexes(empty_postgres: str) -> None:
    engine = create_async_engine(empty_postgres)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    conn = await asyncpg.connect(empty_postgres.replace("postgresql+asyncpg", "postgresql"))
    try:
        await conn.execute(SEED)
        await conn.execute("ANALYZE users")
        by_email = sql.users_page(email=True, role=False, status=False, verified=False, after=False)
        rare = await _plan(conn, by_email, {"email_pattern": sql.like_pattern("5ef0e"), "limit": 51})
        assert "ix_users_email_trgm" in rare, rare
        common = await _plan(conn, by_email, {"email_pattern": sql.like_pattern("example"), "limit": 51})
        assert "ix_users_created_at" in common, common  # most rows match: walk the order, stop at the page
        by_role = sql.users_page(email=False, role=True, status=False, verified=False, after=False)
        admins = await _plan(conn, by_role, {"role_pattern": sql.like_pattern("admin", around=" "), "limit": 51})
        assert "ix_users_roles_trgm" in admins, admins
        paged = sql.users_page(email=False, role=False, status=False, verified=False, after=True)
        later = await _plan(conn, paged, {"after_at": await conn.fetchval("SELECT min(created_at) FROM users"),
                                          "after_id": uuid.uuid4(), "limit": 51})
        assert "ix_users_created_at" in later, later
        count = await _plan(conn, sql.COUNT_ACTIVE_ADMINS, {"besides": uuid.uuid4()})
        assert "ix_users_active_admins" in count, count
    finally:
        await conn.close()
