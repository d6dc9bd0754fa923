"""One use case, one transaction, one explicit commit."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from application.unit_of_work import UnitOfWork
from domain.errors import StorageUnavailable
from infrastructure.db.errors import is_outage
from infrastructure.db.repositories import (
    SqlItemRepository,
    SqlNotificationRepository,
    SqlSessionRepository,
    SqlUserRepository,
)


class SqlUnitOfWork(UnitOfWork):
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._conn: AsyncConnection | None = None

    async def __aenter__(self) -> Self:
        try:
            conn = await self._engine.connect()
            await conn.begin()
        except Exception as exc:
            if is_outage(exc):
                raise StorageUnavailable("The database is unavailable; try again shortly") from exc
            raise
        self._conn = conn
        self.users = SqlUserRepository(conn)
        self.sessions = SqlSessionRepository(conn)
        self.items = SqlItemRepository(conn)
        self.notifications = SqlNotificationRepository(conn)
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
        if exc is not None and is_outage(exc):
            raise StorageUnavailable("The database is unavailable; try again shortly") from exc

    async def commit(self) -> None:
        assert self._conn is not None, "commit outside the unit of work"  # noqa: S101
        await self._conn.commit()
