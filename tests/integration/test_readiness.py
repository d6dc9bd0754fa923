"""What a new operator meets: `gatehouse serve` on a database that was never migrated says so at start,
is not ready, answers 503 (not 500) with a log line that says to run `gatehouse migrate`, and becomes
ready once it is run; readiness reports Redis when it is configured."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from infrastructure.db.tables import SCHEMA_REVISION
from tests.api.helpers import PASSWORD
from tests.live_server import free_port, live_server


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def unmigrated_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'never-migrated.db'}"
    return str(request.getfixturevalue("empty_postgres"))


def test_serving_a_database_that_was_never_migrated_says_so_and_answers_503_until_it_is(
        tmp_path: Path, unmigrated_url: str) -> None:
    env = {"GATEHOUSE_DATABASE_URL": unmigrated_url, "GATEHOUSE_AUTO_MIGRATE": "false"}
    with live_server(tmp_path, environment=env) as server:
        ready = httpx.get(f"{server.base_url}/health/ready")
        assert ready.status_code == 503
        body = ready.json()
        assert body["database"] == "not_migrated"
        assert "gatehouse migrate" in body["detail"]
        register = httpx.post(f"{server.base_url}/auth/register",
                              json={"email": f"new-{uuid.uuid4().hex[:8]}@example.com", "password": PASSWORD})
        assert register.status_code == 503, register.text
        assert register.headers["content-type"] == "application/problem+json"
        assert "migrated" in register.json()["detail"]

        gatehouse = Path(sys.executable).parent / "gatehouse"
        migrated = subprocess.run([str(gatehouse), "migrate"], env={**_environ(), **env}, cwd=tmp_path,
                                  capture_output=True, text=True, timeout=120, check=False)
        assert migrated.returncode == 0, migrated.stderr
        ready = httpx.get(f"{server.base_url}/health/ready")
        assert ready.status_code == 200, ready.text  # no restart needed
        assert ready.json() == {"status": "ok", "database": "ok"}
    log = (tmp_path / "server.log").read_text()
    assert f"needs {SCHEMA_REVISION}: run `gatehouse migrate`" in log  # said at start, by serve
    assert log.count("run `gatehouse migrate`") >= 2  # and again when a request met the old schema


def _environ() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("GATEHOUSE_")}


def test_readiness_reports_redis_when_it_is_configured(tmp_path: Path, redis_url: str) -> None:
    with live_server(tmp_path, GATEHOUSE_REDIS_URL=redis_url) as server:
        ready = httpx.get(f"{server.base_url}/health/ready")
        assert ready.status_code == 200, ready.text
        assert ready.json() == {"status": "ok", "database": "ok", "redis": "ok"}


def test_readiness_is_503_while_the_configured_redis_is_down(tmp_path: Path) -> None:
    with live_server(tmp_path, GATEHOUSE_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0") as server:
        ready = httpx.get(f"{server.base_url}/health/ready", timeout=10)
        assert ready.status_code == 503
        assert ready.json()["redis"] == "unavailable"
        assert ready.json()["database"] == "ok"
