"""The async engine: aiosqlite for the embedded default, a pooled asyncpg engine for Postgres."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import ConnectionPoolEntry

from infrastructure.db.sa_async import AsyncEngine, create_async_engine
from infrastructure.settings import Settings
from infrastructure.utils.private_files import private_file


def create_engine(settings: Settings) -> AsyncEngine:
    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url.render_as_string(hide_password=False), url.database, settings)
    connect_args: dict[str, Any] = {
        "timeout": settings.db_connect_timeout,
        "command_timeout": settings.db_command_timeout,
        "server_settings": {"application_name": "gatehouse"},
    }
    return create_async_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout,
        pool_pre_ping=settings.db_pool_pre_ping,
        pool_recycle=1800,
        echo=settings.db_echo,
        hide_parameters=True,  # errors would quote the values: password hashes, addresses
        connect_args=connect_args,
    )


def _sqlite_engine(url: str, database: str | None, settings: Settings) -> AsyncEngine:
    if database and database != ":memory:" and not database.startswith("file:"):
        # Created private before SQLite opens it: SQLite gives its -wal and -shm files the database's mode.
        private_file(Path(database))
    engine = create_async_engine(url, echo=settings.db_echo, hide_parameters=True,
                                 connect_args={"timeout": settings.db_command_timeout})

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(settings.db_command_timeout * 1000)}")
        cursor.close()

    return engine
