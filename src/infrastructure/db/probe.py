from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


class DatabaseProbe:
    """Readiness: can we run a query right now? Bounded in time so a dead server cannot hang it."""

    def __init__(self, engine: AsyncEngine, timeout_seconds: float) -> None:
        self._engine = engine
        self._timeout = timeout_seconds

    async def ok(self) -> bool:
        try:
            async with asyncio.timeout(self._timeout):
                async with self._engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True
