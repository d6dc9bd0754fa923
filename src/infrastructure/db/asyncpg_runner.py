"""Statements of statements.py run straight on an asyncpg pool (Postgres, autocommit units of work).

Measured on this project's machines (docs/PERFORMANCE.md): a pooled SQLAlchemy async checkout plus one
query costs about 600 µs of CPU, the same query on a raw asyncpg pool about 250 µs. Nearly every
request runs a statement or two that stands alone (the session-liveness check, the caller's account,
the refresh-token rotation, the login's lookup and writes, delivery bookkeeping), so on Postgres those
run here. Nothing is written twice: each Core statement is compiled once, on first use, for
SQLAlchemy's asyncpg dialect — which renders `$n` placeholders — and its text and the order of its
named parameters are kept; a call only orders the values and applies the column types' bind
processors. Rows come back as asyncpg makes them, without SQLAlchemy's result processing: right for
the column types the tables use (tests/integration/test_statement_parity.py checks that no other
type appears). No SQLAlchemy connection is checked out, no statement is compiled per call.

Why it is built this way: docs/adr/0001-asyncpg-hot-path.md.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.sql import Executable

from infrastructure.db.runners import Params, Row, StatementRunner, raise_as_storage_error
from infrastructure.settings import Settings

_DIALECT = PGDialect_asyncpg()  # type: ignore[no-untyped-call]


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # the parameter behind $1, $2, …
    processors: tuple[Callable[[Any], Any] | None, ...]
    constants: dict[str, Any]  # values written into the statement itself (a status, the 1 of `attempts + 1`)

    def args(self, params: Params) -> list[Any]:
        given = {**self.constants, **params} if self.constants else params
        return [value if process is None else process(value)
                for value, process in zip((given[name] for name in self.names), self.processors, strict=True)]


def compile_for_asyncpg(statement: Executable) -> _Compiled:
    compiled = statement.compile(dialect=_DIALECT)  # type: ignore[attr-defined]
    names = tuple(compiled.positiontup or ())
    binds = [compiled.binds[name] for name in names]
    return _Compiled(sql=compiled.string, names=names,
                     processors=tuple(bind.type.dialect_impl(_DIALECT).bind_processor(_DIALECT) for bind in binds),
                     constants={name: bind.effective_value for name, bind in zip(names, binds, strict=True)
                                if not bind.required})


class AsyncpgRunner(StatementRunner):
    """Runs each statement on its own, in autocommit, on a pool opened on first use."""

    dialect_name = "postgresql"

    def __init__(self, settings: Settings) -> None:
        self._dsn = asyncpg_dsn(settings)
        self._settings = settings
        self._pool: asyncpg.Pool[Any] | None = None
        self._lock = asyncio.Lock()
        self._compiled: dict[Executable, _Compiled] = {}

    async def one(self, statement: Executable, params: Params) -> Row | None:
        compiled = self._compile(statement)
        row: Row | None = await self._call("fetchrow", compiled.sql, compiled.args(params))
        return row

    async def all(self, statement: Executable, params: Params) -> list[Row]:
        compiled = self._compile(statement)
        rows: list[Row] = await self._call("fetch", compiled.sql, compiled.args(params))
        return rows

    async def run(self, statement: Executable, params: Params) -> None:
        compiled = self._compile(statement)
        await self._call("execute", compiled.sql, compiled.args(params))

    def _compile(self, statement: Executable) -> _Compiled:
        compiled = self._compiled.get(statement)
        if compiled is None:
            compiled = self._compiled[statement] = compile_for_asyncpg(statement)
        return compiled

    async def _call(self, method: str, sql: str, args: list[Any]) -> Any:
        try:
            pool = self._pool or await self._open()
            async with pool.acquire(timeout=self._settings.db_pool_timeout) as conn:
                return await getattr(conn, method)(sql, *args)
        except Exception as exc:
            raise_as_storage_error(exc)

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

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
    """asyncpg resets a connection on release with a round trip (RESET ALL, UNLISTEN, unlock…). Only
    single statements ever run on these connections, outside any transaction, so there is no session
    state to reset: skipping it saves a round trip per request."""


def create_asyncpg_runner(settings: Settings) -> AsyncpgRunner | None:
    return None if settings.is_sqlite else AsyncpgRunner(settings)
