"""A worker imports only what it uses (worker RSS at rest ≤ 100 MiB, docs/PERFORMANCE.md): checked in a
fresh interpreter, since this one has imported everything the tests need."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

# What an app on Postgres without Redis or metrics must not load, and why each is heavy or unused there.
NOT_LOADED = {
    "sqlalchemy.orm": "the ORM (~6 MiB): Gatehouse runs Core statements (infrastructure/db/sa_async.py)",
    "redis": "redis-py: only with GATEHOUSE_REDIS_URL (infrastructure/redis_rate_limit.py)",
    "limits": "the limits library: only with GATEHOUSE_REDIS_URL",
    "yaml": "dependency_injector's YAML support (api/injector.py)",
    "werkzeug": "dependency_injector's Flask wiring (api/injector.py)",
    "prometheus_client": "only with GATEHOUSE_METRICS_TOKEN",
    "alembic": "only when migrating",
    "typer": "the command line, not the service",
    "aiosmtplib": "only with GATEHOUSE_NOTIFIER=smtp",
}


def _run(code: str) -> Any:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=False,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_a_postgres_worker_loads_none_of_what_it_does_not_use() -> None:
    found = _run("""
        import json, sys
        from api.app import create_app
        from infrastructure.settings import Settings
        create_app(Settings(_env_file=None, database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none",
                            jwt_private_key=None, dev_signing_key=True))
        print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {"sqlalchemy", "redis", "limits",
            "yaml", "werkzeug", "prometheus_client", "alembic", "typer", "aiosmtplib"})))
    """)
    loaded = set(found)
    assert [why for name, why in NOT_LOADED.items() if name in loaded] == []
    assert "sqlalchemy.ext.asyncio.engine" in loaded


def test_the_whole_asyncio_package_is_there_for_whoever_asks() -> None:
    found = _run("""
        import json
        import sqlalchemy.ext
        from infrastructure.db.sa_async import AsyncEngine
        from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
        import sqlalchemy.ext.asyncio as package
        print(json.dumps({"same": package.AsyncEngine is AsyncEngine, "session": AsyncSession.__name__,
                          "parent": sqlalchemy.ext.asyncio is package}))
    """)
    assert found == {"same": True, "session": "AsyncSession", "parent": True}
