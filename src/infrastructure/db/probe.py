"""Readiness of the database: reachable, and migrated to the schema this code needs."""

from __future__ import annotations

import asyncio
import enum
from dataclasses import dataclass

from sqlalchemy import text

from infrastructure.db.errors import is_schema_missing
from infrastructure.db.sa_async import AsyncEngine
from infrastructure.db.tables import SCHEMA_REVISION


class DatabaseState(enum.Enum):
    OK = "ok"
    UNAVAILABLE = "unavailable"
    NOT_MIGRATED = "not_migrated"


@dataclass(frozen=True, slots=True)
class DatabaseCheck:
    state: DatabaseState
    revision: str | None  # the schema revision the database is at (None: never migrated, or unknown)

    @property
    def hint(self) -> str:
        return (f"the database schema is at {self.revision or 'nothing (never migrated)'}, this Gatehouse needs "
                f"{SCHEMA_REVISION}: run `gatehouse migrate`")


class DatabaseProbe:
    """One bounded query (a dead server cannot hang it): the schema revision Alembic recorded."""

    def __init__(self, engine: AsyncEngine, timeout_seconds: float) -> None:
        self._engine = engine
        self._timeout = timeout_seconds

    async def check(self) -> DatabaseCheck:
        try:
            async with asyncio.timeout(self._timeout):
                async with self._engine.connect() as conn:
                    revision = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
        except Exception as exc:
            if is_schema_missing(exc):
                return DatabaseCheck(DatabaseState.NOT_MIGRATED, None)
            return DatabaseCheck(DatabaseState.UNAVAILABLE, None)
        ok = revision == SCHEMA_REVISION
        return DatabaseCheck(DatabaseState.OK if ok else DatabaseState.NOT_MIGRATED, revision)
