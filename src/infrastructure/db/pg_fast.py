"""The hot paths on Postgres, straight on an asyncpg pool.

Measured on this project's machines (docs/PERFORMANCE.md): a pooled SQLAlchemy async checkout plus one
query costs about 600 µs of CPU, the same on a raw asyncpg pool about 250 µs. The statements that run
on nearly every request — the session-liveness check, the caller's user row, the refresh-token
rotation — the login's user lookup and its writes (the new session, its first refresh token and the
new-login notification, in one statement), and the bookkeeping of each delivery therefore run here on
Postgres, as hand-written SQL equivalent to the Core statements in repositories.py (which SQLite and
every other use case keep using). Each is one statement, atomic and safe without a surrounding
transaction.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from sqlalchemy.engine import make_url

from domain.notifications import Notification, NotificationStatus
from domain.session import Session
from domain.tokens import TokenDigest
from domain.user import Email, User
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
_SESSION_COLUMNS = ("id", "user_id", "created_at", "last_used_at", "absolute_expires_at", "current_token",
                    "previous_token", "rotated_at", "revoked_at", "revoked_reason", "user_agent", "ip")
_INSERT_SESSION = f"INSERT INTO sessions ({', '.join(_SESSION_COLUMNS)}) VALUES ({{}})"  # noqa: S608 - constants
_INSERT_HISTORY = "INSERT INTO refresh_tokens (digest, session_id, issued_at) VALUES ({})"
_INSERT_NOTIFICATION = ("INSERT INTO notifications (id, user_id, kind, message, status, created_at, attempts, "
                        "claimed_until) VALUES ({})")
_CLAIM_FOR_DELIVERY = """
UPDATE notifications SET claimed_until = $3, attempts = attempts + CASE WHEN claimed_until = $5 THEN 0 ELSE 1 END
 WHERE id = $1 AND status = $4 AND (claimed_until IS NULL OR claimed_until <= $2 OR claimed_until = $5)
RETURNING *, (SELECT email FROM users WHERE users.id = notifications.user_id) AS recipient
"""
_RECIPIENT = "SELECT u.email FROM notifications n JOIN users u ON u.id = n.user_id WHERE n.id = $1"
_DELIVERED = """
UPDATE notifications SET status = $2, delivered_at = $3, claimed_until = NULL, last_error = NULL WHERE id = $1
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

    async def insert(self, sessions: list[Session], notifications: list[Notification]) -> None:
        """New sessions (with their first refresh token) and notifications, in one statement."""
        writes: list[tuple[str, tuple[object, ...]]] = []
        for session in sessions:
            values = mappers.session_values(session)
            writes.append((_INSERT_SESSION, tuple(values[c] for c in _SESSION_COLUMNS)))
            writes.append((_INSERT_HISTORY, (session.current_token.value, session.id, session.created_at)))
        for n in notifications:
            writes.append((_INSERT_NOTIFICATION, (n.id, n.user_id, n.kind.value, n.message, n.status.value,
                                                  n.created_at, n.attempts, n.claimed_until)))
        if writes:
            query, args = _one_statement(writes)
            await self._execute(query, *args)

    async def claim_for_delivery(self, notification_id: UUID, now: datetime, lease_until: datetime,
                                 held_until: datetime | None = None) -> tuple[Notification, Email | None] | None:
        # $5 NULL: "= $5" is never true, so only a free claim is taken (and counted)
        row = await self._fetchrow(_CLAIM_FOR_DELIVERY, notification_id, now, lease_until,
                                   NotificationStatus.QUEUED.value, held_until)
        if row is None:
            return None
        return mappers.notification_from_row(row), Email(row["recipient"]) if row["recipient"] else None

    async def recipient(self, notification_id: UUID) -> Email | None:
        row = await self._fetchrow(_RECIPIENT, notification_id)
        return Email(row[0]) if row else None

    async def mark_delivered(self, notification_id: UUID, now: datetime) -> None:
        await self._execute(_DELIVERED, notification_id, NotificationStatus.DELIVERED.value, now)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def _fetchrow(self, query: str, *args: object) -> Any:
        pool = self._pool or await self._open()
        async with pool.acquire(timeout=self._settings.db_pool_timeout) as conn:
            return await conn.fetchrow(query, *args)

    async def _execute(self, query: str, *args: object) -> None:
        pool = self._pool or await self._open()
        async with pool.acquire(timeout=self._settings.db_pool_timeout) as conn:
            await conn.execute(query, *args)

    async def _open(self) -> asyncpg.Pool[Any]:
        async with self._lock:  # created on first use, once: no I/O at construction
            if self._pool is None:
                s = self._settings
                self._pool = await asyncpg.create_pool(
                    self._dsn, min_size=1, max_size=s.db_pool_size, timeout=s.db_connect_timeout,
                    command_timeout=s.db_command_timeout, max_inactive_connection_lifetime=300,
                    server_settings={"application_name": "gatehouse-fast"}, reset=_keep_as_is)
            return self._pool


def _one_statement(writes: list[tuple[str, tuple[object, ...]]]) -> tuple[str, list[object]]:
    """Several INSERTs as one statement (data-modifying CTEs), so all rows are written or none; foreign
    keys are checked at its end, when e.g. the session a refresh token points at exists. Only the
    constant statements above and `$n` placeholders make up the text; every value is a bound parameter."""
    parts: list[str] = []
    args: list[object] = []
    for template, values in writes:
        placeholders = ", ".join(f"${len(args) + i}" for i in range(1, len(values) + 1))
        parts.append(template.format(placeholders))
        args.extend(values)
    *first, last = parts
    ctes = ", ".join(f"w{i} AS ({sql})" for i, sql in enumerate(first))
    return (f"WITH {ctes} {last}" if ctes else last), args


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
