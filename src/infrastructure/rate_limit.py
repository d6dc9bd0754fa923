"""Rate limits that hold exactly across workers and hosts: in Redis when configured, else in the database.

Both count in a fixed window that starts with the first attempt counted for a key, and reserve an
attempt atomically before it is made: Redis with an INCR that also sets the key's expiry (the `limits`
library's fixed window), the database with one conditional upsert (statements.RESERVE_ATTEMPT). So
of any number of concurrent attempts exactly the limit's worth get through. Keys hold an email, an
address or a user id: only the SHA-256 of the limit's name and the key is stored.
"""

from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from domain.errors import StorageUnavailable
from domain.observations import RateLimit
from domain.ports import Clock, Metrics, RateLimiter
from infrastructure.db import statements as sql
from infrastructure.db.unit_of_work import SqlUnitOfWorkFactory

log = logging.getLogger("gatehouse.rate_limit")


@dataclass(frozen=True)
class Limit:
    """`max_hits` attempts per key in `window_seconds`; `name` keeps the keys of two limits apart."""

    name: str
    max_hits: int
    window_seconds: int


class RateLimits(Protocol):
    """What both stores offer: limiters that share one store, readiness, clean-up. Redis's is
    infrastructure/redis_rate_limit.py, imported only when GATEHOUSE_REDIS_URL is set (redis-py and
    `limits` cost a worker ~8 MiB)."""

    def limiter(self, limit: Limit) -> RateLimiter: ...

    async def health(self) -> str | None:
        """For readiness: "ok" or "unavailable"; None when there is nothing apart from the database."""

    async def purge(self) -> None: ...

    async def aclose(self) -> None: ...


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


def as_async_uri(url: str) -> str:
    return url if url.startswith("async+") else f"async+{url}"


def unavailable(exc: Exception) -> StorageUnavailable:
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
