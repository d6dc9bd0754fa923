from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from aiosmtpd.controller import Controller
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from tests.conftest import IN_CI, truncate_all
from tests.integration.test_notifiers import Inbox
from tests.live_server import free_port
from tests.postgres import run_coroutine

REDIS_URL = os.environ.get("GATEHOUSE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


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


def _redis_answers() -> bool:
    host_port = REDIS_URL.split("//", 1)[1].split("/", 1)[0]
    host, _, port = host_port.rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port or 6379)), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def redis_url() -> str:
    if not _redis_answers():
        message = f"no Redis at {REDIS_URL}: start one or set GATEHOUSE_TEST_REDIS_URL"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return REDIS_URL


@pytest_asyncio.fixture(loop_scope="session")
async def empty_postgres(postgres_url: str) -> AsyncIterator[str]:
    """A Postgres database of its own, never migrated (dropped afterwards)."""
    import secrets

    import asyncpg
    from sqlalchemy.engine import make_url

    admin = make_url(postgres_url).set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False)
    name = f"gatehouse_empty_{secrets.token_hex(4)}"
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        await conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await conn.close()


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, Inbox]]:
    """A real SMTP server (aiosmtpd) in the test process, and the mail it received."""
    inbox = Inbox()
    port = free_port()
    # aiosmtpd's default 5 s start-up limit is a hang guard, and a busy host can need more
    controller = Controller(inbox, hostname="127.0.0.1", port=port, ready_timeout=60)
    controller.start()
    yield port, inbox
    controller.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def server_env(request: pytest.FixtureRequest) -> dict[str, str]:
    """The environment of a live server (and of commands beside it) on SQLite's embedded default, or on the
    run's Postgres database emptied for this test."""
    if request.param == "sqlite":
        return {}
    url = str(request.getfixturevalue("migrated_postgres"))
    run_coroutine(truncate_all(url))
    return {"GATEHOUSE_DATABASE_URL": url}
