"""The retention job's deletes: one batch per short transaction (domain/retention.py, statements.py).

Why it is built this way: docs/adr/0008-retention.md.
"""

from __future__ import annotations

from datetime import datetime

from domain.ports import ExpiredRecords
from domain.retention import Purgeable
from infrastructure.db import statements as sql
from infrastructure.db.runners import raise_as_storage_error
from infrastructure.db.sa_async import AsyncEngine


class SqlExpiredRecords(ExpiredRecords):
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def purge(self, what: Purgeable, before: datetime, limit: int) -> int | None:
        try:
            async with self._engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    if not await conn.scalar(sql.TRY_RETENTION_LOCK):
                        return None
                    await conn.execute(sql.CUSTOM_PLANS)
                result = await conn.execute(sql.PURGE[what], {"before": before, "limit": limit})
                return result.rowcount
        except Exception as exc:
            raise_as_storage_error(exc)
