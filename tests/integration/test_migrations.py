"""The packaged migrations go up, down and up again on SQLite and on Postgres."""

from __future__ import annotations

import secrets
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from infrastructure.db.migrate import downgrade, upgrade
from infrastructure.db.tables import metadata

EXPECTED = {t.name for t in metadata.sorted_tables}


async def _tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    return names - {"alembic_version"}


async def _round_trip(engine: AsyncEngine) -> None:
    await upgrade(engine)
    assert await _tables(engine) == EXPECTED
    await upgrade(engine)  # idempotent at head
    await downgrade(engine, "base")
    assert await _tables(engine) == set()
    await upgrade(engine)
    assert await _tables(engine) == EXPECTED


async def test_migrations_round_trip_on_sqlite(tmp_path: Path) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")
    try:
        await _round_trip(engine)
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_migrations_round_trip_on_postgres(postgres_url: str) -> None:
    admin = make_url(postgres_url).set(drivername="postgresql", database="postgres")
    name = f"gatehouse_mig_{secrets.token_hex(4)}"
    dsn = admin.render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    await conn.execute(f'CREATE DATABASE "{name}"')
    engine = create_async_engine(make_url(postgres_url).set(database=name))
    try:
        await _round_trip(engine)
    finally:
        await engine.dispose()
        await conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await conn.close()


async def test_the_schema_in_code_matches_the_migrations(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")
    await upgrade(engine)
    async with engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), metadata))
    await engine.dispose()
    assert diff == []


def test_the_schema_revision_the_readiness_check_expects_is_alembics_head() -> None:
    from alembic.script import ScriptDirectory

    from infrastructure.db.migrate import alembic_config
    from infrastructure.db.tables import SCHEMA_REVISION

    assert ScriptDirectory.from_config(alembic_config()).get_heads() == [SCHEMA_REVISION]
