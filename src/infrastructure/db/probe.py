"""Readiness of the database: reachable, and migrated to the schema this code needs."""

from __future__ import annotations

import asyncio
import enum

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from infrastructure.db.errors import is_schema_missing
from infrastructure.db.tables import SCHEMA_REVISION


class DatabaseState(enum.Enum):
    OK = "ok"
    UNAVAILABLE = "unavailable"
    NOT_MIGRATED = "not_migrated"


class DatabaseProbe:
    """One bounded query (a dead server cannot hang it): the schema revision Alembic recorded."""

    def __init__(self, engine: AsyncEngine, timeout_seconds: float) -> None:
        self._engine = engine
        self._timeout = timeout_seconds
        self.revision: str | None = None  # what the last check found

    async def state(self) -> DatabaseState:
        try:
            async with asyncio.timeout(self._timeout):
                async with self._engine.connect() as conn:
                    self.revision = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
        except Exception as exc:
            if is_schema_missing(exc):
                self.revision = None
                return DatabaseState.NOT_MIGRATED
            return DatabaseState.UNAVAILABLE
        return DatabaseState.OK if self.revision == SCHEMA_REVISION else DatabaseState.NOT_MIGRATED

    async def ok(self) -> bool:
        return await self.state() is DatabaseState.OK


def not_migrated_hint(found: str | None) -> str:
    return (f"the database schema is at {found or 'nothing (never migrated)'}, this Gatehouse needs "
            f"{SCHEMA_REVISION}: run `gatehouse migrate`")
