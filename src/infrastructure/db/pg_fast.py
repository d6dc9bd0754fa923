"""The hot paths on Postgres, straight on an asyncpg pool.

Measured on this project's machines (docs/PERFORMANCE.md): a pooled SQLAlchemy async checkout plus one
query costs about 600 µs of CPU, the same on a raw asyncpg pool about 250 µs. The statements that run
on nearly every request — the session-liveness check, the caller's user row, the refresh-token
rotation — and the login's user lookup therefore run here on Postgres, as hand-written SQL equivalent
to the Core statements in repositories.py (which SQLite and every transactional use case keep using).
Each is one statement, safe without a surrounding transaction.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from sqlalchemy.engine import make_url

from domain.session import Session
from domain.tokens import TokenDigest
from domain.user import User
from infrastructure.db import mappers
from infrastructure.settings import Settings

_SESSION = "SELECT * FROM sessions WHERE id = $1"
_USER = "SELECT * FROM users WHERE id = $1"
_USER_BY_EMAIL = "SELECT * FROM users WHERE email = $1"
# Same semantics as SqlSessionRepository.rotate: spend the live token (race-free by the row lock and
# the re-checked WHERE) and remember the successor's digest, in one round trip.
_ROTATE = """
WITH rotated AS (
    UPDATE sessions
       SET previous_token = current_token, current_token = $2, rotated_at = $3, last_used_at = $3
     WHERE current_token = $1 AND revoked_at IS NULL AND absolute_expires_at > $3 AND last_used_at > $4
 RETURNING *
), remembered AS (
    INSERT INTO refresh_tokens (digest, session_id, issued_at) SELECT $2, id, $3 FROM rotated
)
SELECT * FROM rotated
"""


class PgFastPath:
    def __init__(self, settings: Settings) -> None:
        self._dsn = asyncpg_dsn(settings)
        self._settings = settings
        self._pool: asyncpg.Pool[Any] | None = None
        self._lock = asyncio.Lock()

    async def session(self, session_id: UUID) -> Session | None:
        row = await self._fetchrow(_SESSION, session_id)
        return mappers.session_from_row(row) if row else None

    async def user(self, user_id: UUID) -> User | None:
        row = await self._fetchrow(_USER, user_id)
        return mappers.user_from_row(row) if row else None

    async def user_by_email(self, email: str) -> User | None:
        row = await self._fetchrow(_USER_BY_EMAIL, email)
        return mappers.user_from_row(row) if row else None

    async def rotate(self, presented: TokenDigest, successor: TokenDigest, now: datetime,
                     idle_cutoff: datetime) -> Session | None:
        row = await self._fetchrow(_ROTATE, presented.value, successor.value, now, idle_cutoff)
        return mappers.session_from_row(row) if row else None

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def _fetchrow(self, query: str, *args: object) -> Any:
        pool = self._pool or await self._open()
        async with pool.acquire(timeout=self._settings.db_pool_timeout) as conn:
            return await conn.fetchrow(query, *args)

    async def _open(self) -> asyncpg.Pool[Any]:
        async with self._lock:  # created on first use, once: no I/O at construction
            if self._pool is None:
                s = self._settings
                self._pool = await asyncpg.create_pool(
                    self._dsn, min_size=1, max_size=s.db_pool_size, timeout=s.db_connect_timeout,
                    command_timeout=s.db_command_timeout, max_inactive_connection_lifetime=300,
                    server_settings={"application_name": "gatehouse-fast"}, reset=_keep_as_is)
            return self._pool


def asyncpg_dsn(settings: Settings) -> str:
    """The configured SQLAlchemy URL (postgresql+asyncpg://…) as a DSN asyncpg accepts."""
    url = make_url(settings.resolved_database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


async def _keep_as_is(_conn: object) -> None:
    """asyncpg resets a connection on release with a round trip (RESET ALL, UNLISTEN, unlock…). Only the
    single statements above ever run on these connections, outside any transaction, so there is no
    session state to reset: skipping it saves a round trip per request."""


def create_fast_path(settings: Settings) -> PgFastPath | None:
    return None if settings.is_sqlite else PgFastPath(settings)
