"""The per-request "is this session still live?" check, kept off the database on the hot path.

A live answer is reused for at most `ttl` seconds (the contract allows one second for a revocation
made by another worker or host to take effect); revocations made in this process drop the cached
answer at once, so they hold from the very next request. An ended session never comes back, so that
answer is kept until the cache is full.

Why it is built this way: docs/adr/0002-caches-and-invalidation.md.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from application.unit_of_work import UnitOfWorkFactory
from domain.ports import SessionActivity
from domain.session import SessionPolicy

_CACHE_LIMIT = 50_000
_ENDED = -1.0


class CachedSessionActivity(SessionActivity):
    def __init__(self, uow: UnitOfWorkFactory, policy: SessionPolicy, ttl_seconds: float) -> None:
        self._uow = uow
        self._policy = policy
        self._ttl = ttl_seconds
        # session id → (monotonic time until which "live" may be reused, session expiry, its user) or _ENDED
        self._cache: dict[UUID, tuple[float, datetime, UUID] | float] = {}

    async def is_active(self, session_id: UUID, user_id: UUID, now: datetime) -> bool:
        entry = self._cache.get(session_id)
        if entry == _ENDED:
            return False
        if isinstance(entry, tuple) and entry[0] > time.monotonic() and now < entry[1]:
            return entry[2] == user_id
        async with self._uow(autocommit=True) as uow:  # the asyncpg pool on Postgres
            session = await uow.sessions.get(session_id)
        active = session is not None and session.is_active(now, self._policy)
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        if not active:
            self._cache[session_id] = _ENDED
        elif self._ttl > 0 and session is not None:
            self._cache[session_id] = (time.monotonic() + self._ttl, session.expires_at(self._policy), session.user_id)
        return active and session is not None and session.user_id == user_id

    def forget(self, session_ids: Iterable[UUID]) -> None:
        for session_id in session_ids:
            self._cache.pop(session_id, None)
