"""Rate limits that hold exactly across workers and hosts: in Redis when configured, else in the database.

Both count in a fixed window that starts with the first attempt counted for a key, and reserve an
attempt atomically before it is made: Redis with an INCR that also sets the key's expiry (the `limits`
library's fixed window), the database with one conditional upsert (statements.RESERVE_ATTEMPT). So
of any number of concurrent attempts exactly the limit's worth get through. Keys hold an email, an
address or a user id: only the SHA-256 of the limit's name and the key is stored.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from limits import RateLimitItemPerSecond
from limits.aio.storage import RedisStorage
from limits.aio.strategies import FixedWindowRateLimiter
from redis.asyncio import BlockingConnectionPool, Redis

from domain.errors import StorageUnavailable
from domain.observations import RateLimit
from domain.ports import Clock, Metrics, RateLimiter
from infrastructure.db import statements as sql
from infrastructure.db.unit_of_work import SqlUnitOfWorkFactory

log = logging.getLogger("gatehouse.rate_limit")
REDIS_CONNECTIONS = 20  # per worker


@dataclass(frozen=True)
class Limit:
    """`max_hits` attempts per key in `window_seconds`; `name` keeps the keys of two limits apart."""

    name: str
    max_hits: int
    window_seconds: int


class RedisRateLimits:
    """Limits counted in Redis: one connection pool per worker for all of them."""

    def __init__(self, redis_url: str) -> None:
        # A bounded pool that waits for a free connection (up to 5 s) instead of failing: redis-py's
        # default pool raises MaxConnectionsError past 100, which a login burst reaches (measured).
        self._pool = BlockingConnectionPool.from_url(redis_url, max_connections=REDIS_CONNECTIONS, timeout=5)
        storage = RedisStorage(_as_async_uri(redis_url), implementation="redispy", key_prefix="gatehouse",
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
            raise _unavailable(exc) from exc
        return max(1, math.ceil(stats.reset_time - time.time()))  # Redis keeps wall-clock time

    async def reset(self, key: str) -> None:
        try:
            await self._strategy.clear(self._item, digest(self._name, key))
        except Exception as exc:
            raise _unavailable(exc) from exc


class SqlRateLimits:
    """Limits counted in the database's `rate_limits` table (one row per key whose window is open)."""

    def __init__(self, units: SqlUnitOfWorkFactory, clock: Clock) -> None:
        self._units = units
        self._clock = clock

    def limiter(self, limit: Limit) -> SqlRateLimiter:
        return SqlRateLimiter(self._units, self._clock, limit)

    async def health(self) -> str | None:
        """Nothing of its own to report: the counts are in the database, which readiness checks anyway."""
        return None

    async def purge(self) -> None:
        """Drop the counters whose window is over (the sweep calls this): the table stays as small as the
        keys currently limited."""
        async with self._units.statements() as db:
            await db.run(sql.PURGE_RATE_LIMITS, {"now": self._clock.now()})

    async def aclose(self) -> None:
        """Nothing of its own to close: it runs on the units of work's connections."""


class SqlRateLimiter(RateLimiter):
    def __init__(self, units: SqlUnitOfWorkFactory, clock: Clock, limit: Limit) -> None:
        self._units = units
        self._clock = clock
        self._limit = limit
        self._window = timedelta(seconds=limit.window_seconds)

    async def reserve(self, key: str) -> int | None:
        now = self._clock.now()
        ident = digest(self._limit.name, key)
        async with self._units.statements() as db:
            reserved = await db.one(sql.RESERVE_ATTEMPT[db.dialect_name],
                                    {"key": ident, "now": now, "window_ends_at": now + self._window,
                                     "max_hits": self._limit.max_hits})
            if reserved is not None:
                return None
            row = await db.one(sql.RATE_LIMIT_WINDOW, {"key": ident})
        if row is None:  # reset in between: try again later rather than guess
            return 1
        ends: datetime = row["window_ends_at"]
        return max(1, math.ceil((ends - now).total_seconds()))

    async def reset(self, key: str) -> None:
        async with self._units.statements() as db:
            await db.run(sql.RESET_RATE_LIMIT, {"key": digest(self._limit.name, key)})


def digest(name: str, key: str) -> str:
    return hashlib.sha256(f"{name}|{key}".encode("utf-8", "surrogatepass")).hexdigest()


def _as_async_uri(url: str) -> str:
    return url if url.startswith("async+") else f"async+{url}"


def _unavailable(exc: Exception) -> StorageUnavailable:
    log.error("rate-limit storage failed: %s", type(exc).__name__)
    return StorageUnavailable("The rate-limit store is unavailable; try again shortly")


class CountedRateLimiter(RateLimiter):
    """A limiter whose refusals are counted (metrics)."""

    def __init__(self, inner: RateLimiter, limit: RateLimit, metrics: Metrics) -> None:
        self._inner = inner
        self._limit = limit
        self._metrics = metrics

    async def reserve(self, key: str) -> int | None:
        retry_after = await self._inner.reserve(key)
        if retry_after is not None:
            self._metrics.rate_limited(self._limit)
        return retry_after

    async def reset(self, key: str) -> None:
        await self._inner.reset(key)
