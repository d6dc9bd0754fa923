"""New rows held back by a unit of work and written, if nothing else runs first, in one statement.

A login writes a session, its first refresh token and the new-login notification, and nothing else.
In a pooled SQLAlchemy transaction that is five round trips (BEGIN, three INSERTs, COMMIT); as one
statement of data-modifying CTEs on the asyncpg pool it is one, and still all or nothing (foreign keys
are checked at the end of the statement, when the session a token points at exists). So on Postgres
a transaction holds the INSERTs it is given before any other statement: at commit, if nothing else
ran, they go out as one statement; if another statement comes first, they are written ahead of it
on the transaction's connection, in order.

A unit of work whose writes depend on a password check (a login) also holds a guard: the credentials
that were checked, locked and compared before anything is written (statements.HOLD_CREDENTIALS).
"""

from __future__ import annotations

import functools
from typing import Any, cast

from sqlalchemy import Insert, Select, bindparam, func, insert, select
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import BindParameter

from domain.errors import CredentialsChanged
from infrastructure.db.runners import Params, StatementRunner
from infrastructure.db.statements import HOLD_CREDENTIALS


class HeldInserts:
    def __init__(self) -> None:
        self._rows: list[tuple[Insert, Params]] = []
        self._guard: Params | None = None

    def hold(self, statement: Insert, params: Params) -> None:
        self._rows.append((statement, params))

    def guard(self, params: Params) -> None:
        """Write the rows only if the credentials statements.HOLD_CREDENTIALS finds with `params` hold."""
        self._guard = params

    def __bool__(self) -> bool:
        return bool(self._rows) or self._guard is not None

    async def write_in_order(self, runner: StatementRunner) -> None:
        """On the transaction's connection, the guard first; the rows stay held until all are written (a
        failure leaves them for a later commit to write at once, never half of them reported as written)."""
        if self._guard is not None:
            if await runner.one(HOLD_CREDENTIALS[runner.dialect_name], self._guard) is None:
                raise CredentialsChanged()
            self._guard = None
        for statement, params in self._rows:
            await runner.run(statement, params)
        self._rows = []

    async def write_at_once(self, runner: StatementRunner) -> None:
        statements = tuple(statement for statement, _ in self._rows)
        params = {f"{name}_{i}": value for i, (_, row) in enumerate(self._rows) for name, value in row.items()}
        if self._guard is None:
            await runner.run(combined(statements), params)
        else:
            columns = tuple(tuple(row) for _, row in self._rows)
            written = await runner.one(guarded(statements, columns), {**params, **self._guard})
            if written is None or written["held"] == 0:
                raise CredentialsChanged()
        self._rows = []  # only once written
        self._guard = None


@functools.cache
def combined(statements: tuple[Insert, ...]) -> Insert:
    """The INSERTs as one statement: all but the last as CTEs of the last, each one's parameters renamed
    with its position (`id` of the first becomes `id_0`). Cached, so each shape (a login's three) is
    built, and compiled by the runner, once."""
    renamed = [_suffixed(statement, i) for i, statement in enumerate(statements)]
    *first, last = renamed
    return last.add_cte(*(statement.cte(f"w{i}") for i, statement in enumerate(first))) if first else last


@functools.cache
def guarded(statements: tuple[Insert, ...], columns: tuple[tuple[str, ...], ...]) -> Select[Any]:
    """The INSERTs as one statement that writes them only if the held credentials are found (Postgres):
    the guard (a FOR SHARE read) is a CTE every INSERT selects its one row from, so each writes one row
    or none, all in one snapshot; the statement answers how many rows the guard found. (`columns`: the
    columns each INSERT is given, its parameters named after them, as statements._insert_row makes.)"""
    guard = HOLD_CREDENTIALS["postgresql"]
    assert isinstance(guard, Select)  # noqa: S101 - statements.py defines it so
    held = guard.cte("held")
    writes = [
        insert(statement.table).from_select(
            list(names),
            select(*(bindparam(f"{name}_{i}", type_=statement.table.c[name].type) for name in names))
            .select_from(held))
        .cte(f"w{i}")
        for i, (statement, names) in enumerate(zip(statements, columns, strict=True))
    ]
    return select(func.count().label("held")).select_from(held).add_cte(*writes)


def _suffixed(statement: Insert, i: int) -> Insert:
    def rename(element: visitors.ExternallyTraversible, **_: object) -> BindParameter[object] | None:
        if isinstance(element, BindParameter):
            return bindparam(f"{element.key}_{i}", type_=element.type)
        return None

    return cast(Insert, visitors.replacement_traverse(statement, {}, rename))
