from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from tests.conftest import truncate_all


@pytest_asyncio.fixture(loop_scope="session")
async def pg_engine(migrated_postgres: str) -> AsyncIterator[AsyncEngine]:
    """An engine on the run's Postgres database, emptied before each test (tests commit for real)."""
    await truncate_all(migrated_postgres)
    engine = create_async_engine(migrated_postgres, pool_size=25)
    yield engine
    await engine.dispose()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "pg_engine" in getattr(item, "fixturenames", ()) or "migrated_postgres" in getattr(
                item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)
