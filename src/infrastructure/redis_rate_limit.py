"""Rate limits counted in Redis (the `limits` library's fixed window on redis-py): imported only when
GATEHOUSE_REDIS_URL is set, so a worker without Redis does not load either library."""

from __future__ import annotations

import asyncio
import math
import time

from limits import RateLimitItemPerSecond
from limits.aio.storage import RedisStorage
from limits.aio.strategies import FixedWindowRateLimiter
from redis.asyncio import BlockingConnectionPool, Redis

from domain.ports import RateLimiter
from infrastructure.rate_limit import Limit, as_async_uri, digest, unavailable

REDIS_CONNECTIONS = 20  # per worker


class RedisRateLimits:
    """Limits counted in Redis: one connection pool per worker for all of them."""

    def __init__(self, redis_url: str) -> None:
        # A bounded pool that waits for a free connection (up to 5 s) instead of failing: redis-py's
        # default pool raises MaxConnectionsError past 100, which a login burst reaches (measured).
        self._pool = BlockingConnectionPool.from_url(redis_url, max_connections=REDIS_CONNECTIONS, timeout=5)
        storage = RedisStorage(as_async_uri(redis_url), implementation="redispy", key_prefix="gatehouse",
                               wrap_exceptions=True,
                               connection_pool=self._pool)  # type: ignore[arg-type]  # documented option
        self._strategy = FixedWindowRateLimiter(storage)

    def limiter(self, limit: Limit) -> RedisRateLimiter:
        return RedisRateLimiter(self._strategy, limit)

    async def health(self) -> str | None:
        """For readiness: "ok" when Redis answers within 2 s, else "unavailable"."""
        client = Redis(connection_pool=self._pool)
        try:
            async with asyncio.timeout(2.0):
                return "ok" if await client.ping() else "unavailable"
        except Exception:
            return "unavailable"

    async def purge(self) -> None:
        """Nothing to do: Redis expires each key with its window."""

    async def aclose(self) -> None:
        await self._pool.disconnect()


class RedisRateLimiter(RateLimiter):
    def __init__(self, strategy: FixedWindowRateLimiter, limit: Limit) -> None:
        self._strategy = strategy
        self._item = RateLimitItemPerSecond(limit.max_hits, limit.window_seconds, namespace=f"gatehouse-{limit.name}")
        self._name = limit.name

    async def reserve(self, key: str) -> int | None:
        ident = digest(self._name, key)
        try:
            if await self._strategy.hit(self._item, ident):
                return None
            stats = await self._strategy.get_window_stats(self._item, ident)
        except Exception as exc:
            raise unavailable(exc) from exc
        return max(1, math.ceil(stats.reset_time - time.time()))  # Redis keeps wall-clock time

    async def reset(self, key: str) -> None:
        try:
            await self._strategy.clear(self._item, digest(self._name, key))
        except Exception as exc:
            raise unavailable(exc) from exc
