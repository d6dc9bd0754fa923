"""A worker's short-lived copies of account rows, dropped the moment any worker changes one.

`GET /users/me` is the hottest authenticated read, and the account row behind it rarely changes.
Each worker keeps the rows it read for at most `ttl` seconds and listens on a dedicated Postgres
connection for `gatehouse_user_changed`, which a trigger (migration 0002) sends for every UPDATE or
DELETE of a `users` row when its transaction commits, whoever made it. On receipt the row is dropped,
so a change made through one worker is seen by the others as soon as the notification arrives
(normally well under a millisecond after the commit; a read that reaches another worker in that
moment can still see the old row); a change made through this worker is dropped here at commit by
the unit of work itself.

The cache only answers while the listening connection is up and the trigger exists (a database not
yet migrated to 0002 gets no caching, and an error in the log): when the connection is lost
(database restart, network), everything cached is dropped and reads go to the database until it is
back (retried at most once a second, by one request at a time; the others read uncached meanwhile).
A row read concurrently with an invalidation is not stored (generation check), so a load that started
before a change cannot put the old row back. `ttl` bounds what a silently dead (half-open) connection
could cost. At most _LIMIT rows are kept. Rows are handed out as copies: nothing a caller does
changes the cache.

Why it is built this way: docs/adr/0002-caches-and-invalidation.md.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import asyncpg

from domain.user import User
from infrastructure.utils.copying import slot_copier

CHANNEL = "gatehouse_user_changed"  # the trigger of migration 0002
_LIMIT = 10_000  # ~0.5 KiB a row: at most a few MiB per worker
_RETRY_SECONDS = 1.0
_TRIGGER_EXISTS = """
SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'users_changed' AND tgrelid = to_regclass('users'))
"""
log = logging.getLogger("gatehouse.cache")
_copy = slot_copier(User)


class Uncached:
    """No account cache (SQLite, or GATEHOUSE_PROFILE_CACHE_SECONDS=0): every read goes to the database."""

    async def get(self, user_id: UUID, load: Callable[[UUID], Awaitable[User | None]]) -> User | None:
        return await load(user_id)

    def forget(self, user_id: UUID) -> None:
        pass

    async def aclose(self) -> None:
        pass


class UserCache:
    def __init__(self, dsn: str, *, ttl_seconds: float, connect_timeout: float) -> None:
        self._dsn = dsn
        self._ttl = ttl_seconds
        self._connect_timeout = connect_timeout
        self._entries: dict[UUID, tuple[float, User]] = {}
        self._generation = 0  # bumped by every invalidation
        self._listener: asyncpg.Connection[Any] | None = None
        self._retry_at = 0.0
        self._lock = asyncio.Lock()

    async def get(self, user_id: UUID, load: Callable[[UUID], Awaitable[User | None]]) -> User | None:
        entry = self._entries.get(user_id)
        if entry is not None:
            if entry[0] > time.monotonic():
                return _copy(entry[1])
            del self._entries[user_id]
        listening = await self._ensure_listening()
        generation = self._generation
        user = await load(user_id)
        if user is not None and listening and generation == self._generation and self._listener is not None:
            if len(self._entries) >= _LIMIT:
                self._entries.clear()
            self._entries[user_id] = (time.monotonic() + self._ttl, _copy(user))
        return user

    def forget(self, user_id: UUID) -> None:
        self._generation += 1
        self._entries.pop(user_id, None)

    def forget_all(self) -> None:
        self._generation += 1
        self._entries.clear()

    def listening(self) -> bool:
        return self._listener is not None and not self._listener.is_closed()

    async def aclose(self) -> None:
        listener, self._listener = self._listener, None
        self.forget_all()
        if listener is not None and not listener.is_closed():
            try:
                await listener.close(timeout=2)
            except Exception:  # closing a broken connection: drop it without the goodbye
                listener.terminate()

    async def _ensure_listening(self) -> bool:
        if self.listening():
            return True
        if time.monotonic() < self._retry_at or self._lock.locked():
            return False  # one request (re)connects; the others read uncached meanwhile
        async with self._lock:
            if self.listening():
                return True
            if time.monotonic() < self._retry_at:
                return False
            self.forget_all()
            conn = None
            try:
                conn = await asyncpg.connect(self._dsn, timeout=self._connect_timeout,
                                             server_settings={"application_name": "gatehouse-listen"})
                if not await conn.fetchval(_TRIGGER_EXISTS):
                    log.error("account cache off: the users_changed trigger is missing (run `gatehouse migrate`)")
                    self._retry_at = time.monotonic() + 60
                    await conn.close()
                    return False
                await conn.add_listener(CHANNEL, self._on_notification)
            except Exception as exc:  # the database is down: serve uncached until it is back
                self._retry_at = time.monotonic() + _RETRY_SECONDS
                log.warning("account cache off: cannot listen for changes (%s)", type(exc).__name__)
                if conn is not None:
                    conn.terminate()
                return False
            conn.add_termination_listener(self._on_lost)
            self._listener = conn
            return True

    def _on_notification(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            self.forget(UUID(payload))
        except ValueError:
            self.forget_all()

    def _on_lost(self, conn: object) -> None:
        if conn is self._listener:
            self._listener = None
            self.forget_all()
            log.warning("account cache off: the listening connection was lost")
