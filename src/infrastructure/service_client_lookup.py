"""Finding the client an introspection authenticates as, kept off the database for repeated requests.

A found client, or a client id found to be unknown, is reused for at most `ttl` seconds (one by default),
counted from before the read: a client deleted by the CLI is refused by every worker within that time. The
caller looks up only ids of a plausible length (at most 64 characters). At most _LIMIT entries are kept; when
full, the unknown ids go first, so made-up ids cannot push the real clients out.
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
        asked = time.monotonic()  # before the read: a slow read cannot stretch how old the copy may be
        entry = self._entries.get(client_id)
        if entry is not None and entry[0] > asked:
            return entry[1]
        async with self._uow(autocommit=True) as uow:  # the asyncpg pool on Postgres
            client = await uow.service_clients.get(client_id)
        if self._ttl > 0:
            if len(self._entries) >= _LIMIT:  # made-up ids: drop those, keep the real clients
                self._entries = {key: value for key, value in self._entries.items() if value[1] is not None}
                if len(self._entries) >= _LIMIT:
                    self._entries.clear()
            self._entries[client_id] = (asked + self._ttl, client)
        return client
