"""Units of work: one use case's repositories over one runner, and what happens at commit.

Chosen by composition in `SqlUnitOfWorkFactory`, once, at construction:

- `TransactionUnitOfWork`: a transaction on one pooled SQLAlchemy connection, opened on the first
  statement. On Postgres the new sessions and notifications it is given first are held back and
  written at commit in one statement on the asyncpg pool if nothing else ran (held_inserts.py).
- `AutocommitUnitOfWork`: no transaction; each statement stands alone. On Postgres the statements run
  on the asyncpg pool (asyncpg_runner.py), on SQLite on an autocommit connection.

Both, once their writes are committed, drop the changed accounts from this worker's account cache
(other workers hear of it from the database) and hand the notifications they recorded to the
delivery queue (delivered after the response; see api/delivery.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import Self
from uuid import UUID

from sqlalchemy import Insert

from application.unit_of_work import DeliveryQueue, UnitOfWork, UnitOfWorkFactory
from domain.errors import CredentialsChanged, StorageUnavailable
from domain.notifications import Handoff
from infrastructure.db.held_inserts import HeldInserts
from infrastructure.db.repositories import (
    Insertion,
    ProfileCache,
    SqlAccountTokenRepository,
    SqlItemRepository,
    SqlNotificationRepository,
    SqlSecurityEventRepository,
    SqlServiceClientRepository,
    SqlSessionRepository,
    SqlUserRepository,
)
from infrastructure.db.runners import ConnectionRunner, Params, StatementRunner, raise_as_storage_error
from infrastructure.db.sa_async import AsyncConnection, AsyncEngine
from infrastructure.db.statements import HOLD_CREDENTIALS


class _Unit(UnitOfWork):
    """The repositories over one runner, and what the unit of work recorded and changed.

    Each repository is made when first used: most units of work use one or two of the seven, and making
    all of them cost `GET /users/me` ~3 µs a request (measured in process, docs/PERFORMANCE.md)."""

    def __init__(self, runner: StatementRunner, insert: Insertion, profiles: ProfileCache,
                 deliveries: DeliveryQueue) -> None:
        self._runner = runner
        self._insert = insert
        self._profiles = profiles
        self._deliveries = deliveries
        self._recorded: list[Handoff] = []
        self._changed_users: set[UUID] = set()
        self._users: SqlUserRepository | None = None
        self._sessions: SqlSessionRepository | None = None
        self._items: SqlItemRepository | None = None
        self._notifications: SqlNotificationRepository | None = None
        self._account_tokens: SqlAccountTokenRepository | None = None
        self._security_events: SqlSecurityEventRepository | None = None
        self._service_clients: SqlServiceClientRepository | None = None

    # Plain properties over instance attributes (not functools.cached_property, which takes a lock on
    # Python 3.11): a repository is made on first use and kept.
    @property
    def users(self) -> SqlUserRepository:
        if self._users is None:
            self._users = SqlUserRepository(self._runner, self._profiles, self._changed_users.add, self._require)
        return self._users

    @property
    def sessions(self) -> SqlSessionRepository:
        if self._sessions is None:
            self._sessions = SqlSessionRepository(self._runner, self._insert)
        return self._sessions

    @property
    def items(self) -> SqlItemRepository:
        if self._items is None:
            self._items = SqlItemRepository(self._runner)
        return self._items

    @property
    def notifications(self) -> SqlNotificationRepository:
        if self._notifications is None:
            self._notifications = SqlNotificationRepository(self._runner, self._insert, self._recorded.append)
        return self._notifications

    @property
    def account_tokens(self) -> SqlAccountTokenRepository:
        if self._account_tokens is None:
            self._account_tokens = SqlAccountTokenRepository(self._runner)
        return self._account_tokens

    @property
    def security_events(self) -> SqlSecurityEventRepository:
        if self._security_events is None:
            self._security_events = SqlSecurityEventRepository(self._runner, self._insert)
        return self._security_events

    @property
    def service_clients(self) -> SqlServiceClientRepository:
        if self._service_clients is None:
            self._service_clients = SqlServiceClientRepository(self._runner)
        return self._service_clients

    async def __aenter__(self) -> Self:
        return self

    async def _require(self, guard: Params) -> None:
        raise TypeError("credentials can only be required in a transaction")

    def _committed(self) -> None:
        """After the writes are committed: this worker's cached copies of the changed accounts go (other
        workers hear of it from the database), and what was recorded goes to delivery."""
        for user_id in self._changed_users:
            self._profiles.forget(user_id)
        self._changed_users.clear()
        if self._recorded:
            self._deliveries.put(tuple(self._recorded))
            self._recorded.clear()


class TransactionUnitOfWork(_Unit):
    def __init__(self, engine: AsyncEngine, profiles: ProfileCache, deliveries: DeliveryQueue,
                 batch_runner: StatementRunner | None) -> None:
        self._engine = engine
        self._held = HeldInserts()
        self._batch_runner = batch_runner  # writes held rows in one statement; None: nothing is held
        self._conn = ConnectionRunner(engine.dialect.name, self._begin)
        # Where the repositories' new rows go: held for commit where a batch runner can write them in
        # one statement (Postgres), else straight onto the transaction's connection.
        insert = self._hold if batch_runner is not None else self._conn.run
        super().__init__(self._conn, insert, profiles, deliveries)

    async def _hold(self, statement: Insert, params: Params) -> None:
        if self._conn.connection is not None:  # something else ran already: write in order
            await self._conn.run(statement, params)
        else:
            self._held.hold(statement, params)

    async def _require(self, guard: Params) -> None:
        if self._conn.connection is None and self._batch_runner is not None:
            self._held.guard(guard)  # checked first thing at commit, in the same statement as the rows
        elif await self._conn.one(HOLD_CREDENTIALS[self._conn.dialect_name], guard) is None:
            raise CredentialsChanged()

    async def _begin(self) -> AsyncConnection:
        conn = await self._engine.connect()
        try:
            await conn.begin()
            if self._held:
                await self._held.write_in_order(ConnectionRunner(self._conn.dialect_name, _opened(conn)))
        except BaseException:
            await conn.close()
            raise
        return conn

    async def commit(self) -> None:
        try:
            if self._conn.connection is not None:
                await self._conn.connection.commit()
            elif self._held and self._batch_runner is not None:
                await self._held.write_at_once(self._batch_runner)
        except StorageUnavailable:
            raise
        except Exception as exc:
            raise_as_storage_error(exc)
        self._committed()

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        if self._conn.connection is not None:
            with contextlib.suppress(Exception):  # a broken connection: the pool discards it on close
                await self._conn.connection.rollback()  # no-op after a commit; nothing is written unless asked
        await self._conn.aclose()


def _opened(conn: AsyncConnection) -> Callable[[], Awaitable[AsyncConnection]]:
    async def opened() -> AsyncConnection:
        return conn

    return opened


class AutocommitUnitOfWork(_Unit):
    def __init__(self, runner: StatementRunner, profiles: ProfileCache, deliveries: DeliveryQueue,
                 connection: ConnectionRunner | None = None) -> None:
        super().__init__(runner, runner.run, profiles, deliveries)
        self._connection = connection  # to close on exit, when the runner is a connection of its own

    async def commit(self) -> None:
        self._committed()  # each statement committed on its own already

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self._committed()  # written is written, commit or not
        if self._connection is not None:
            await self._connection.aclose()


class SqlUnitOfWorkFactory(UnitOfWorkFactory):
    """Hands out units of work; on Postgres, autocommit ones run on the asyncpg pool."""

    def __init__(self, engine: AsyncEngine, asyncpg_runner: StatementRunner | None, profiles: ProfileCache,
                 deliveries: DeliveryQueue) -> None:
        self._engine = engine
        self._asyncpg = asyncpg_runner
        self._profiles = profiles
        self._deliveries = deliveries

    def __call__(self, *, autocommit: bool = False) -> UnitOfWork:
        if not autocommit:
            return TransactionUnitOfWork(self._engine, self._profiles, self._deliveries, self._asyncpg)
        if self._asyncpg is not None:
            return AutocommitUnitOfWork(self._asyncpg, self._profiles, self._deliveries)
        connection = ConnectionRunner(self._engine.dialect.name, self._connect_autocommit)
        return AutocommitUnitOfWork(connection, self._profiles, self._deliveries, connection)

    @contextlib.asynccontextmanager
    async def statements(self) -> AsyncIterator[StatementRunner]:
        """A runner for statements that stand alone, outside any unit of work (the rate limiter's): the
        asyncpg pool on Postgres, an autocommit connection on SQLite (closed at the end)."""
        if self._asyncpg is not None:
            yield self._asyncpg
            return
        connection = ConnectionRunner(self._engine.dialect.name, self._connect_autocommit)
        try:
            yield connection
        finally:
            await connection.aclose()

    async def _connect_autocommit(self) -> AsyncConnection:
        conn = await self._engine.connect()
        try:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
        except BaseException:
            await conn.close()
            raise
        return conn
