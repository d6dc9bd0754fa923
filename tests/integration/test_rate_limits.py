"""Login attempts counted in Redis or in the database, so several workers (several limiters here) agree,
and of any number of concurrent attempts exactly the limit's worth are let through."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from domain.ports import LoginRateLimiter
from infrastructure.clock import SystemClock
from infrastructure.db.asyncpg_runner import AsyncpgRunner
from infrastructure.db.engine import create_engine
from infrastructure.db.unit_of_work import SqlUnitOfWorkFactory
from infrastructure.db.user_cache import Uncached
from infrastructure.rate_limit import RedisLoginRateLimiter, SqlLoginRateLimiter
from tests.conftest import make_settings
from tests.fakes import RecordingDeliveryQueue
from tests.live_server import free_port


@pytest.fixture(params=["redis", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """(kind, URL) of where the counts live, resolved outside the event loop."""
    if request.param == "redis":
        return "redis", str(request.getfixturevalue("redis_url"))
    if request.param == "sqlite":
        return "sqlite", str(request.getfixturevalue("sqlite_url"))
    return "postgres", str(request.getfixturevalue("migrated_postgres"))



@pytest_asyncio.fixture(loop_scope="session")
async def limiters(store: tuple[str, str], tmp_path: Path) -> AsyncIterator[list[LoginRateLimiter]]:
    """Three limiters on one store, as three workers would have: each with its own engine and pool."""
    kind, url = store
    if kind == "redis":
        redis = [RedisLoginRateLimiter(max_failures=5, window_seconds=60, redis_url=url) for _ in range(3)]
        yield list(redis)
        for limiter in redis:
            await limiter.aclose()
        return
    settings = make_settings(tmp_path, url)
    engines = [create_engine(settings) for _ in range(3)]
    runners = [AsyncpgRunner(settings) if kind == "postgres" else None for _ in range(3)]
    yield [SqlLoginRateLimiter(max_failures=5, window_seconds=60, clock=SystemClock(),
                               units=SqlUnitOfWorkFactory(engine, runner, Uncached(), RecordingDeliveryQueue()))
           for engine, runner in zip(engines, runners, strict=True)]
    for engine, runner in zip(engines, runners, strict=True):
        if runner is not None:
            await runner.aclose()
        await engine.dispose()


async def test_workers_share_one_count_and_a_success_resets_it(limiters: list[LoginRateLimiter]) -> None:
    first, second, _ = limiters
    key = f"login|{uuid.uuid4().hex}@example.com|198.51.100.4"
    for limiter in (first, second, first, second, first):  # five attempts, counted across both
        assert await limiter.reserve(key) is None
    retry = await second.reserve(key)
    assert retry is not None
    assert 1 <= retry <= 60
    assert await first.reserve(key) is not None
    await first.reset(key)
    assert await second.reserve(key) is None
    assert await first.reserve("login|other@example.com|198.51.100.4") is None  # keys are separate


async def test_of_two_hundred_concurrent_attempts_exactly_five_are_let_through(
        limiters: list[LoginRateLimiter]) -> None:
    key = f"login|{uuid.uuid4().hex}@example.com|198.51.100.4"
    answers = await asyncio.gather(*(limiters[n % 3].reserve(key) for n in range(200)))
    assert sum(answer is None for answer in answers) == 5


async def test_an_unreachable_redis_is_reported_as_unavailable_not_as_a_crash() -> None:
    from domain.errors import StorageUnavailable

    limiter = RedisLoginRateLimiter(max_failures=5, window_seconds=60,
                                    redis_url=f"redis://127.0.0.1:{free_port()}/0")
    with pytest.raises(StorageUnavailable):
        await limiter.reserve("login|someone@example.com|127.0.0.1")
    await limiter.aclose()
