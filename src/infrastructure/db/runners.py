"""What repositories run their statements on: one interface, two implementations.

`StatementRunner` takes a statement of statements.py and its named parameters. `ConnectionRunner`
runs it on a SQLAlchemy connection (a transaction, or an autocommit connection on SQLite);
`AsyncpgRunner` (asyncpg_runner.py) runs the same statement on Postgres's asyncpg pool. Both report
an unreachable database as `StorageUnavailable` and a violated constraint (a unique key, say) as
`ConstraintViolation`, so the repositories above them are written once.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, NoReturn, Protocol

from sqlalchemy.sql import Executable

from domain.errors import StorageUnavailable
from infrastructure.db.errors import constraint_of, is_constraint_violation, is_outage, is_schema_missing
from infrastructure.db.sa_async import AsyncConnection

log = logging.getLogger("gatehouse.db")
Row = Mapping[str, Any]
Params = Mapping[str, Any]


class ConstraintViolation(Exception):
    """A statement broke a constraint of the schema (a unique key, a foreign key, NOT NULL)."""


class StatementRunner(Protocol):
    dialect_name: str

    async def one(self, statement: Executable, params: Params) -> Row | None:
        """The first row the statement returns, if any."""

    async def all(self, statement: Executable, params: Params) -> list[Row]: ...
    async def run(self, statement: Executable, params: Params) -> None: ...


def unavailable() -> StorageUnavailable:
    return StorageUnavailable("The database is unavailable; try again shortly")


def raise_as_storage_error(exc: Exception) -> NoReturn:
    """Re-raise a driver's exception as what it means here: ConstraintViolation, StorageUnavailable, or
    itself (a bug). Call it from an `except` block."""
    if is_constraint_violation(exc):
        # Named, without the statement's parameters (which may hold a password hash), hence `from None`.
        raise ConstraintViolation(constraint_of(exc)) from None
    if is_schema_missing(exc):
        _schema_log.report()
        raise StorageUnavailable("The service is not ready: its database has not been migrated") from None
    if is_outage(exc):
        raise unavailable() from exc
    raise exc


class _SchemaLog:
    """Says at most every 30 s (not once per request of a flood) that the schema is behind the code."""

    def __init__(self) -> None:
        self._last = -math.inf

    def report(self) -> None:
        if time.monotonic() - self._last >= 30:
            self._last = time.monotonic()
            log.error("a statement needs a table or column the database does not have: the database schema "
                      "is older than this Gatehouse; run `gatehouse migrate`")


_schema_log = _SchemaLog()


class ConnectionRunner(StatementRunner):
    """Runs statements on one SQLAlchemy connection, opened on the first statement by `open`."""

    def __init__(self, dialect_name: str, open: Callable[[], Awaitable[AsyncConnection]]) -> None:
        self.dialect_name = dialect_name
        self._open = open
        self.connection: AsyncConnection | None = None

    async def one(self, statement: Executable, params: Params) -> Row | None:
        row: Row | None = (await self._execute(statement, params)).mappings().first()
        return row

    async def all(self, statement: Executable, params: Params) -> list[Row]:
        return list((await self._execute(statement, params)).mappings())

    async def run(self, statement: Executable, params: Params) -> None:
        await self._execute(statement, params)

    async def aclose(self) -> None:
        """Give the connection back, if one was opened (a broken one is discarded by the pool)."""
        conn, self.connection = self.connection, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close()

    async def _execute(self, statement: Executable, params: Params) -> Any:
        try:
            if self.connection is None:
                self.connection = await self._open()
            return await self.connection.execute(statement, dict(params))
        except Exception as exc:
            raise_as_storage_error(exc)
