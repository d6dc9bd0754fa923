"""Attempts counted in Redis or in the database, so several workers (several limiters here) agree,
and of any number of concurrent attempts exactly the limit's worth are let through."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from domain.ports import RateLimiter
from infrastructure.clock import SystemClock
from infrastructure.db.asyncpg_runner import AsyncpgRunner
from infrastructure.db.engine import create_engine
from infrastructure.db.unit_of_work import SqlUnitOfWorkFactory
from infrastructure.db.user_cache import Uncached
from infrastructure.rate_limit import Limit, SqlRateLimits
from infrastructure.redis_rate_limit import RedisRateLimits
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



LOGIN = Limit("login", max_hits=5, window_seconds=60)


@pytest_asyncio.fixture(loop_scope="session")
async def stores(store: tuple[str, str], tmp_path: Path) -> AsyncIterator[list[RedisRateLimits | SqlRateLimits]]:
    """Three stores of counts on one backend, as three workers would have: each with its own pool."""
    kind, url = store
    if kind == "redis":
        redis = [RedisRateLimits(url) for _ in range(3)]
        yield list(redis)
        for limits in redis:
            await limits.aclose()
        return
    settings = make_settings(tmp_path, url)
    engines = [create_engine(settings) for _ in range(3)]
    runners = [AsyncpgRunner(settings) if kind == "postgres" else None for _ in range(3)]
    yield [SqlRateLimits(SqlUnitOfWorkFactory(engine, runner, Uncached(), RecordingDeliveryQueue()), SystemClock())
           for engine, runner in zip(engines, runners, strict=True)]
    for engine, runner in zip(engines, runners, strict=True):
        if runner is not None:
            await runner.aclose()
        await engine.dispose()


@pytest.fixture
def limiters(stores: list[RedisRateLimits | SqlRateLimits]) -> list[RateLimiter]:
    return [limits.limiter(LOGIN) for limits in stores]


async def test_workers_share_one_count_and_a_success_resets_it(limiters: list[RateLimiter]) -> None:
    first, second, _ = limiters
    key = f"{uuid.uuid4().hex}@example.com|198.51.100.4"
    for limiter in (first, second, first, second, first):  # five attempts, counted across both
        assert await limiter.reserve(key) is None
    retry = await second.reserve(key)
    assert retry is not None
    assert 1 <= retry <= 60
    assert await first.reserve(key) is not None
    await first.reset(key)
    assert await second.reserve(key) is None
    assert await first.reserve("other@example.com|198.51.100.4") is None  # keys are separate


async def test_of_two_hundred_concurrent_attempts_exactly_five_are_let_through(
        limiters: list[RateLimiter]) -> None:
    key = f"{uuid.uuid4().hex}@example.com|198.51.100.4"
    answers = await asyncio.gather(*(limiters[n % 3].reserve(key) for n in range(200)))
    assert sum(answer is None for answer in answers) == 5


async def test_limits_with_the_same_key_count_apart_and_a_purge_keeps_open_windows(
        stores: list[RedisRateLimits | SqlRateLimits]) -> None:
    limits = stores[0]
    short = limits.limiter(Limit("short", max_hits=1, window_seconds=1))
    long = limits.limiter(Limit("long", max_hits=2, window_seconds=3600))
    key = str(uuid.uuid4())
    assert await short.reserve(key) is None
    assert await short.reserve(key) is not None
    assert await long.reserve(key) is None  # its own count, though the key is the same
    await asyncio.sleep(1.1)
    await limits.purge()  # the short window is over, the long one is not
    assert await short.reserve(key) is None
    assert await long.reserve(key) is None
    retry = await long.reserve(key)
    assert retry is not None
    assert retry > 3000


async def test_an_unreachable_redis_is_reported_as_unavailable_not_as_a_crash() -> None:
    from domain.errors import StorageUnavailable

    limits = RedisRateLimits(f"redis://127.0.0.1:{free_port()}/0")
    with pytest.raises(StorageUnavailable):
        await limits.limiter(LOGIN).reserve("someone@example.com|127.0.0.1")
    await limits.aclose()
