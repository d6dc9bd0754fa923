"""Finding the client an introspection authenticates as, kept off the database for repeated requests.

A found client, or a client id found to be unknown, is reused for at most `ttl` seconds (one by default):
a client deleted by the CLI is refused by every worker within that time, and a flood of requests with made-up
client ids costs at most one query per id and second. At most _LIMIT entries are kept.
"""

from __future__ import annotations

import time

from application.unit_of_work import UnitOfWorkFactory
from domain.ports import ServiceClientLookup
from domain.service_clients import ServiceClient

_LIMIT = 10_000


class CachedServiceClients(ServiceClientLookup):
    def __init__(self, uow: UnitOfWorkFactory, ttl_seconds: float = 1.0) -> None:
        self._uow = uow
        self._ttl = ttl_seconds
        self._entries: dict[str, tuple[float, ServiceClient | None]] = {}

    async def find(self, client_id: str) -> ServiceClient | None:
        entry = self._entries.get(client_id)
        if entry is not None and entry[0] > time.monotonic():
            return entry[1]
        async with self._uow(autocommit=True) as uow:  # the asyncpg pool on Postgres
            client = await uow.service_clients.get(client_id)
        if len(self._entries) >= _LIMIT:
            self._entries.clear()
        if self._ttl > 0:
            self._entries[client_id] = (time.monotonic() + self._ttl, client)
        return client
