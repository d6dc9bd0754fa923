"""Shared fixtures: a throwaway Postgres database per run, and apps on SQLite or Postgres."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from api.app import create_app
from api.container import Container
from infrastructure.db.tables import metadata
from infrastructure.settings import Settings
from tests.postgres import Provisioned, provision, run_coroutine
from tests.signing_key import TEST_SIGNING_KEY_PEM

ISSUER = "http://gatehouse.test"
IN_CI = os.environ.get("CI", "").lower() == "true"
TABLES = ", ".join(table.name for table in metadata.sorted_tables)  # every table: each test starts empty


@pytest.fixture(scope="session")
def postgres() -> Iterator[Provisioned]:
    with provision() as provisioned:
        yield provisioned


@pytest.fixture(scope="session")
def postgres_url(postgres: Provisioned) -> str:
    if postgres.url is None:
        if IN_CI:
            pytest.fail(f"CI=true and {postgres.reason}")
        pytest.skip(postgres.reason)
    return postgres.url


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def migrated_postgres(postgres_url: str) -> str:
    """The run's database, migrated to head once."""
    from infrastructure.db.migrate import upgrade

    engine = create_async_engine(postgres_url)
    await upgrade(engine)
    await engine.dispose()
    return postgres_url


async def truncate_all(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {TABLES} CASCADE"))
    await engine.dispose()


def make_settings(tmp_path: Path, database_url: str = "", **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "database_url": database_url,
        "auto_migrate": not database_url,
        "issuer": ISSUER,
        # cheap hashing in tests: the production parameters are exercised by the integration tests
        "argon2_time_cost": 1,
        "argon2_memory_kib": 8192,
        "notify_backoff_seconds": 0.01,
        "notify_sweep_interval_seconds": 3600,
        "retention_interval_seconds": 0,  # runs only where a test runs it (tests/*/test_retention.py)
        **overrides,
    }
    if database_url.startswith("postgresql") and "jwt_private_key" not in values and "jwt_secret" not in values:
        # A development key is refused on Postgres: the run's key, or for the tests of other algorithms
        # (which make their keys as a development machine would), the flag that allows one.
        if values.get("jwt_algorithm", "EdDSA") == "EdDSA":
            values["jwt_private_key"] = TEST_SIGNING_KEY_PEM
        else:
            values["dev_signing_key"] = True
    return Settings(_env_file=None, **values)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated once per run; each test starts from a copy (migrating every test's
    own file took a large share of the suite's time)."""
    from infrastructure.db.migrate import upgrade

    path = tmp_path_factory.mktemp("template") / "gatehouse.db"

    async def migrate() -> None:
        engine = create_async_engine(f"sqlite+aiosqlite:///{path}")
        await upgrade(engine)
        await engine.dispose()

    run_coroutine(migrate())
    return path


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A fresh SQLite database for this test: a copy of the migrated template, in its data directory."""
    target = tmp_path / "data" / "gatehouse.db"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(sqlite_template, target)
    return f"sqlite+aiosqlite:///{target}"


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest) -> str:
    """A fresh SQLite file per test, or the run's Postgres database."""
    return str(request.getfixturevalue("sqlite_url" if backend == "sqlite" else "migrated_postgres"))


AppFactory = Callable[..., Awaitable[tuple[FastAPI, Container]]]


@pytest_asyncio.fixture(loop_scope="session")
async def app_factory(tmp_path: Path, database_url: str) -> AsyncIterator[AppFactory]:
    """Build apps on this test's database; each runs inside its lifespan until the test ends."""
    if database_url.startswith("postgresql"):
        await truncate_all(database_url)  # real commits in these tests: start each from empty tables
    stack: list[Any] = []

    async def build(container_setup: Callable[[Container], None] | None = None,
                    **overrides: Any) -> tuple[FastAPI, Container]:
        settings = make_settings(tmp_path, database_url, **overrides)
        container = Container(settings=settings)
        if container_setup is not None:
            container_setup(container)
        app = create_app(settings, container=container, access_log=False)
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        stack.append(lifespan)
        return app, container

    yield build
    for lifespan in reversed(stack):
        await lifespan.__aexit__(None, None, None)


def client_for(app: FastAPI, **kwargs: Any) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=kwargs.pop("client", ("203.0.113.7", 50000)))
    return httpx.AsyncClient(transport=transport, base_url=ISSUER, **kwargs)


@pytest_asyncio.fixture(loop_scope="session")
async def app(app_factory: AppFactory) -> FastAPI:
    built, _ = await app_factory()
    return built


@pytest_asyncio.fixture(loop_scope="session")
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as c:
        yield c
