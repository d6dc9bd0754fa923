"""Failed-login rate limiting with the `limits` library: a moving window per (email, client IP).

In-process memory by default; with GATEHOUSE_REDIS_URL the counts live in Redis so every worker and
host shares them.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time

from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from domain.errors import StorageUnavailable
from domain.ports import LoginRateLimiter

log = logging.getLogger("gatehouse.rate_limit")


class LimitsLoginRateLimiter(LoginRateLimiter):
    def __init__(self, *, max_failures: int, window_seconds: int, redis_url: str | None) -> None:
        self._item = RateLimitItemPerSecond(max_failures, window_seconds, namespace="gatehouse-login")
        self._storage: Storage = (
            RedisStorage(_as_async_uri(redis_url), implementation="redispy", key_prefix="gatehouse",
                         wrap_exceptions=True)
            if redis_url else MemoryStorage()
        )
        self._limiter = MovingWindowRateLimiter(self._storage)

    async def retry_after(self, key: str) -> int | None:
        ident = _ident(key)
        try:
            if await self._limiter.test(self._item, ident):
                return None
            stats = await self._limiter.get_window_stats(self._item, ident)
        except Exception as exc:
            raise _unavailable(exc) from exc
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def record_failure(self, key: str) -> None:
        try:
            await self._limiter.hit(self._item, _ident(key))
        except Exception as exc:
            raise _unavailable(exc) from exc

    async def reset(self, key: str) -> None:
        try:
            await self._limiter.clear(self._item, _ident(key))
        except Exception as exc:
            raise _unavailable(exc) from exc


def _ident(key: str) -> str:
    # Keys hold an email and an IP: store a digest, not the personal data, in the shared store.
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def _as_async_uri(url: str) -> str:
    return url if url.startswith("async+") else f"async+{url}"


def _unavailable(exc: Exception) -> StorageUnavailable:
    log.error("rate-limit storage failed: %s", type(exc).__name__)
    return StorageUnavailable("The rate-limit store is unavailable; try again shortly")
