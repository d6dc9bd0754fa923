"""A transaction Postgres aborts to break a deadlock (or a serialization failure) is answered 503 with
Retry-After, like an outage: the client retries; it is never a 500. Provoked for real on Postgres."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.errors import StorageUnavailable
from infrastructure.db.runners import raise_as_storage_error


@pytest.mark.postgres
async def test_the_victim_of_a_deadlock_gets_storage_unavailable(pg_engine: AsyncEngine) -> None:
    async with pg_engine.begin() as conn:
        await conn.execute(text("CREATE TABLE IF NOT EXISTS deadlock_probe (id int primary key)"))
        await conn.execute(text("INSERT INTO deadlock_probe VALUES (1), (2) ON CONFLICT DO NOTHING"))
    both_hold = asyncio.Barrier(2)
    outcomes: list[BaseException | None] = []

    async def lock(first: int, second: int) -> None:
        try:
            async with pg_engine.begin() as conn:
                await conn.execute(text("UPDATE deadlock_probe SET id = id WHERE id = :i"), {"i": first})
                await both_hold.wait()
                await conn.execute(text("UPDATE deadlock_probe SET id = id WHERE id = :i"), {"i": second})
            outcomes.append(None)
        except Exception as exc:
            try:
                raise_as_storage_error(exc)
            except Exception as mapped:
                outcomes.append(mapped)

    try:
        await asyncio.gather(lock(1, 2), lock(2, 1))
    finally:
        async with pg_engine.begin() as conn:
            await conn.execute(text("DROP TABLE deadlock_probe"))
    assert sorted(type(o).__name__ for o in outcomes) == ["NoneType", "StorageUnavailable"]
    assert any(isinstance(o, StorageUnavailable) for o in outcomes)
