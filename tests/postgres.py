"""Where the Postgres tests get their server: GATEHOUSE_TEST_DATABASE_URL, else the local server at
127.0.0.1:5432, else a testcontainers PostgresContainer when Docker answers. Each run creates a
throwaway database and drops it at the end."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import secrets
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg
from sqlalchemy.engine import make_url

T = TypeVar("T")
LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
HOW_TO_GET_ONE = (
    "no PostgreSQL available: set GATEHOUSE_TEST_DATABASE_URL=postgresql://USER@HOST:PORT/DB, start a "
    "local server on 127.0.0.1:5432 (user postgres, trust auth), or run Docker for testcontainers"
)


@dataclass(frozen=True)
class Provisioned:
    url: str | None
    reason: str = ""


async def _reachable(dsn: str) -> bool:
    try:
        conn = await asyncpg.connect(dsn, timeout=3)
    except (TimeoutError, OSError, asyncpg.PostgresError):
        return False
    await conn.close()
    return True


def _admin_dsn(url: str) -> str:
    u = make_url(url)
    return u.set(drivername="postgresql").render_as_string(hide_password=False)


@contextlib.contextmanager
def provision() -> Iterator[Provisioned]:
    server = os.environ.get("GATEHOUSE_TEST_DATABASE_URL")
    container = None
    if not server and run_coroutine(_reachable(LOCAL_SERVER)):
        server = LOCAL_SERVER
    if not server:
        container = _start_container()
        if container is not None:
            server = container.get_connection_url(driver=None)
    if not server:
        yield Provisioned(None, HOW_TO_GET_ONE)
        return
    admin = _admin_dsn(server)
    name = f"gatehouse_test_{secrets.token_hex(6)}"
    run_coroutine(_execute(admin, f'CREATE DATABASE "{name}"'))
    url = make_url(admin).set(drivername="postgresql+asyncpg", database=name)
    try:
        yield Provisioned(url.render_as_string(hide_password=False))
    finally:
        run_coroutine(_execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if container is not None:
            container.stop()


def run_coroutine(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion on a private loop (fixtures may be set up inside a running one)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def _execute(dsn: str, sql: str) -> None:
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _start_container() -> Any:  # a testcontainers PostgresContainer, or None
    try:
        import docker  # type: ignore[import-untyped]

        docker.from_env().ping()
        from testcontainers.postgres import PostgresContainer
    except Exception:
        return None
    container = PostgresContainer("postgres:16-alpine")
    container.start()
    return container
