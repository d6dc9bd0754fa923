"""A worker's short-lived copies of account rows, dropped the moment any worker changes one.

`GET /users/me` is the hottest authenticated read, and the account row behind it rarely changes.
Each worker keeps the rows it read for at most `ttl` seconds and listens on a dedicated Postgres
connection for `gatehouse_user_changed`, which a trigger (migration 0002) sends for every UPDATE or
DELETE of a `users` row when its transaction commits, whoever made it. On receipt the row is dropped,
so a change made through one worker is seen by the others as soon as the notification arrives
(normally well under a millisecond after the commit, before the writer has even answered its client);
a change made through this worker is dropped here at commit by the unit of work itself.

The cache only answers while the listening connection is up: when it is lost (database restart,
network), everything cached is dropped and reads go to the database until it is back (retried at most
once a second). A row read concurrently with an invalidation is not stored (generation check), so a
load that started before a change cannot put the old row back. `ttl` bounds what a silently dead
connection could cost. Rows are handed out as copies: nothing a caller does changes the cache.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import asyncpg

from domain.user import User

CHANNEL = "gatehouse_user_changed"  # the trigger of migration 0002
_LIMIT = 50_000
_RETRY_SECONDS = 1.0
log = logging.getLogger("gatehouse.cache")


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
                return dataclasses.replace(entry[1])
            del self._entries[user_id]
        listening = await self._ensure_listening()
        generation = self._generation
        user = await load(user_id)
        if user is not None and listening and generation == self._generation and self._listener is not None:
            if len(self._entries) >= _LIMIT:
                self._entries.clear()
            self._entries[user_id] = (time.monotonic() + self._ttl, dataclasses.replace(user))
        return user

    def forget(self, user_id: UUID) -> None:
        self._generation += 1
        self._entries.pop(user_id, None)

    def forget_all(self) -> None:
        self._generation += 1
        self._entries.clear()

    def listening(self) -> bool:
        return self._listener is not None and not self._listener.is_closed()

    async def close(self) -> None:
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
        if time.monotonic() < self._retry_at:
            return False
        async with self._lock:
            if self.listening():
                return True
            self.forget_all()
            try:
                conn = await asyncpg.connect(self._dsn, timeout=self._connect_timeout,
                                             server_settings={"application_name": "gatehouse-listen"})
                await conn.add_listener(CHANNEL, self._on_notification)
            except Exception as exc:  # the database is down: serve uncached until it is back
                self._retry_at = time.monotonic() + _RETRY_SECONDS
                log.warning("account cache off: cannot listen for changes (%s)", type(exc).__name__)
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
