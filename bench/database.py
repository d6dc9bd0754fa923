"""The run's fresh PostgreSQL database: created per run, dropped after it, and after runs that were killed."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
from pathlib import Path
from typing import Any

from bench.common import BenchError, log


async def _admin(dsn: str, *statements: str) -> list[Any]:
    import asyncpg

    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        out = []
        for statement in statements:
            out.append(await conn.fetch(statement))
        return out
    finally:
        await conn.close()


def admin(dsn: str, *statements: str) -> list[Any]:
    """The rows of each statement, run in order on one connection."""
    try:
        return asyncio.run(asyncio.wait_for(_admin(dsn, *statements), 60))
    except (OSError, TimeoutError) as exc:
        where = dsn.rsplit("@", 1)[-1]
        raise BenchError(f"cannot reach PostgreSQL at {where} ({exc}); see --pg-url") from None


def fresh_name() -> str:
    return f"gatehouse_bench_{secrets.token_hex(6)}"


def create_database(dsn: str, name: str) -> None:
    """The comment names this runner, so a later run can tell whether the database is still in use."""
    admin(dsn, f'CREATE DATABASE "{name}"',
          f"COMMENT ON DATABASE \"{name}\" IS 'gatehouse bench runner pid={os.getpid()} boot={boot_id()}'")
    log(f"created database {name}")


def drop_database(dsn: str, name: str) -> None:
    admin(dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def drop_stale_databases(dsn: str) -> None:
    """Databases of earlier runs that were killed before even the reaper could act (the comment names
    the runner's pid; only those whose runner is gone are dropped)."""
    rows = admin(dsn, "SELECT datname, shobj_description(oid, 'pg_database') AS note FROM pg_database "
                      "WHERE datname LIKE 'gatehouse\\_bench\\_%'")[0]
    for row in rows:
        match = re.fullmatch(r"gatehouse bench runner pid=(\d+) boot=(\S+)", row["note"] or "")
        if not match:
            continue
        pid, boot = int(match[1]), match[2]
        alive = boot == boot_id() and Path(f"/proc/{pid}").exists()
        if not alive:
            log(f"dropping stale database {row['datname']} of a bench run that is gone")
            drop_database(dsn, row["datname"])


def boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return "unknown"
