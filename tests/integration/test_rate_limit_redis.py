"""Failed-login counts shared through Redis, so several workers (two limiters here) agree."""

from __future__ import annotations

import os
import socket
import uuid

import pytest

from infrastructure.rate_limit import LimitsLoginRateLimiter
from tests.live_server import free_port

REDIS_URL = os.environ.get("GATEHOUSE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


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
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return REDIS_URL


async def test_two_workers_share_one_failure_count_through_redis(redis_url: str) -> None:
    first = LimitsLoginRateLimiter(max_failures=5, window_seconds=60, redis_url=redis_url)
    second = LimitsLoginRateLimiter(max_failures=5, window_seconds=60, redis_url=redis_url)
    key = f"{uuid.uuid4().hex}@example.com|198.51.100.4"
    for limiter in (first, second, first, second):
        assert await limiter.retry_after(key) is None
        await limiter.record_failure(key)
    assert await second.retry_after(key) is None
    await second.record_failure(key)  # the fifth failure, counted across both
    retry = await first.retry_after(key)
    assert retry is not None
    assert 1 <= retry <= 60
    await first.reset(key)
    assert await second.retry_after(key) is None


async def test_an_unreachable_redis_is_reported_as_unavailable_not_as_a_crash() -> None:
    from domain.errors import StorageUnavailable

    limiter = LimitsLoginRateLimiter(max_failures=5, window_seconds=60,
                                     redis_url=f"redis://127.0.0.1:{free_port()}/0")
    with pytest.raises(StorageUnavailable):
        await limiter.retry_after("someone@example.com|127.0.0.1")
