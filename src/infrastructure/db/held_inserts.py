"""New rows held back by a unit of work and written, if nothing else runs first, in one statement.

A login writes a session, its first refresh token and the new-login notification, and nothing else.
In a pooled SQLAlchemy transaction that is five round trips (BEGIN, three INSERTs, COMMIT); as one
statement of data-modifying CTEs on the asyncpg pool it is one, and still all or nothing (foreign keys
are checked at the end of the statement, when the session a token points at exists). So on Postgres
a transaction holds the INSERTs it is given before any other statement: at commit, if nothing else
ran, they go out as one statement; if another statement comes first, they are written ahead of it
on the transaction's connection, in order.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, cast

from sqlalchemy import Insert, bindparam
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import BindParameter

from infrastructure.db.runners import Params, StatementRunner


class HeldInserts:
    def __init__(self) -> None:
        self._rows: list[tuple[Insert, Params]] = []

    def hold(self, statement: Insert, params: Params) -> None:
        self._rows.append((statement, params))

    def __bool__(self) -> bool:
        return bool(self._rows)

    async def write_in_order(self, execute: Callable[[Insert, dict[str, Any]], Awaitable[object]]) -> None:
        """On the transaction's connection; the rows stay held until all are written (a failure leaves
        them for a later commit to write at once, never half of them reported as written)."""
        for statement, params in self._rows:
            await execute(statement, dict(params))
        self._rows = []

    async def write_at_once(self, runner: StatementRunner) -> None:
        statements = tuple(statement for statement, _ in self._rows)
        params = {f"{name}_{i}": value for i, (_, row) in enumerate(self._rows) for name, value in row.items()}
        await runner.run(combined(statements), params)
        self._rows = []  # only once written


@functools.cache
def combined(statements: tuple[Insert, ...]) -> Insert:
    """The INSERTs as one statement: all but the last as CTEs of the last, each one's parameters renamed
    with its position (`id` of the first becomes `id_0`). Cached, so each shape (a login's three) is
    built, and compiled by the runner, once."""
    renamed = [_suffixed(statement, i) for i, statement in enumerate(statements)]
    *first, last = renamed
    return last.add_cte(*(statement.cte(f"w{i}") for i, statement in enumerate(first))) if first else last


def _suffixed(statement: Insert, i: int) -> Insert:
    def rename(element: visitors.ExternallyTraversible, **_: object) -> BindParameter[object] | None:
        if isinstance(element, BindParameter):
            return bindparam(f"{element.key}_{i}", type_=element.type)
        return None

    return cast(Insert, visitors.replacement_traverse(statement, {}, rename))
