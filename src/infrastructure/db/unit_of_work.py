"""One use case, one transaction, one explicit commit."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self
from uuid import UUID

from sqlalchemy.engine import Dialect, Result
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql import Executable

from application.unit_of_work import UnitOfWork
from domain.errors import StorageUnavailable
from domain.notifications import Notification
from domain.session import Session
from infrastructure.db.errors import is_outage
from infrastructure.db.pg_fast import PgFastPath
from infrastructure.db.repositories import (
    SqlItemRepository,
    SqlNotificationRepository,
    SqlSessionRepository,
    SqlUserRepository,
    notification_insert,
    session_inserts,
)
from infrastructure.db.user_cache import UserCache


class SqlUnitOfWork(UnitOfWork):
    """A transaction on one pooled connection, opened on the first statement (a use case served
    entirely by the Postgres fast path in autocommit mode never checks one out).

    On Postgres, new sessions and notifications added before any other statement are held back: if
    nothing else runs, commit writes them in one statement on the asyncpg pool (a login's session,
    first refresh token and new-login notification: one round trip instead of a pooled SQLAlchemy
    transaction of five); if another statement comes first, they are written at the start of the
    transaction, in order. Either way they are committed together or not at all.
    """

    def __init__(self, engine: AsyncEngine, fast: PgFastPath | None = None, user_cache: UserCache | None = None,
                 *, autocommit: bool = False) -> None:
        self._engine = engine
        self._autocommit = autocommit
        self._fast = fast if autocommit else None  # the fast path is single statements only
        self._batch_writer = None if autocommit else fast
        self._held_sessions: list[Session] = []
        self._held_notifications: list[Notification] = []
        self._user_cache = user_cache
        self._changed_users: set[UUID] = set()
        self._conn: AsyncConnection | None = None

    @property
    def dialect(self) -> Dialect:
        return self._engine.dialect

    async def execute(self, statement: Executable) -> Result[Any]:
        conn = self._conn or await self._open()
        return await conn.execute(statement)

    async def _open(self) -> AsyncConnection:
        try:
            conn = await self._engine.connect()
            if self._autocommit:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
            else:
                await conn.begin()
        except Exception as exc:
            if is_outage(exc):
                raise StorageUnavailable("The database is unavailable; try again shortly") from exc
            raise
        self._conn = conn
        await self._write_held_rows(conn)
        return conn

    def defer_session(self, session: Session) -> bool:
        if self._batch_writer is None or self._conn is not None:
            return False
        self._held_sessions.append(session)
        return True

    def defer_notification(self, notification: Notification) -> bool:
        if self._batch_writer is None or self._conn is not None:
            return False
        self._held_notifications.append(notification)
        return True

    async def _write_held_rows(self, conn: AsyncConnection) -> None:
        held_sessions, self._held_sessions = self._held_sessions, []
        held_notifications, self._held_notifications = self._held_notifications, []
        for session in held_sessions:
            for statement in session_inserts(session):
                await conn.execute(statement)
        for notification in held_notifications:
            await conn.execute(notification_insert(notification))

    async def __aenter__(self) -> Self:
        self._conn = None
        self._changed_users.clear()
        self._held_sessions, self._held_notifications = [], []
        batch = self if self._batch_writer is not None else None
        self.users = SqlUserRepository(self, self._fast, self._user_cache, self._changed_users.add)
        self.sessions = SqlSessionRepository(self, self._fast, batch)
        self.items = SqlItemRepository(self)
        self.notifications = SqlNotificationRepository(self, self._fast, batch)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.rollback()  # no-op after a commit; nothing is written unless asked
                await conn.close()
            except Exception:  # noqa: S110 - the connection is already broken; the pool discards it
                pass
        self._forget_changed_users()  # autocommit writes are committed already; a rollback changed nothing
        if exc is not None and not isinstance(exc, StorageUnavailable) and is_outage(exc):
            raise StorageUnavailable("The database is unavailable; try again shortly") from exc

    async def commit(self) -> None:
        if self._conn is None and self._batch_writer is not None and (self._held_sessions or self._held_notifications):
            await self._batch_writer.insert(self._held_sessions, self._held_notifications)
            self._held_sessions, self._held_notifications = [], []  # only once written
        if self._conn is not None and not self._autocommit:
            await self._conn.commit()
        self._forget_changed_users()

    def _forget_changed_users(self) -> None:
        # Committed: this worker's cached copies go now (other workers hear it from the database).
        if self._user_cache is not None:
            for user_id in self._changed_users:
                self._user_cache.forget(user_id)
        self._changed_users.clear()
