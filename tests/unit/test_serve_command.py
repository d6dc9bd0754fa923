"""`gatehouse serve` prepares, then becomes uvicorn: the command it runs in its place, what that command
does, and what serve leaves for the workers (its environment, the metrics directory)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from typer.testing import CliRunner

from api import cli, serve_worker
from infrastructure.metrics import fresh_multiprocess_dir


def test_serve_prepares_then_execs_uvicorn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    executed: list[list[str]] = []
    monkeypatch.setattr(os, "execv", lambda path, argv: executed.append([path, *argv]))
    for name in ("GATEHOUSE_ISSUER", "GATEHOUSE_AUTO_MIGRATE", "GATEHOUSE_ACCESS_LOG", "PROMETHEUS_MULTIPROC_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GATEHOUSE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GATEHOUSE_METRICS_TOKEN", "m" * 40)
    result = CliRunner().invoke(cli.app, ["serve", "--port", "8123", "--no-access-log", "--workers", "2"])
    assert result.exit_code == 0, result.output
    [[path, *argv]] = executed
    assert path == argv[0] == sys.executable
    assert argv[1:4] == ["-P", "-m", "api.serve_worker"]  # -P: not the working directory's modules
    assert argv == serve_worker.command(cli.uvicorn_options(
        host="127.0.0.1", port=8123, workers=2, reload=False, log_level="info", forwarded_allow_ips="127.0.0.1"))
    # What the workers inherit: migrated once here, the access-log choice, the issuer, a metrics directory.
    assert (os.environ["GATEHOUSE_AUTO_MIGRATE"], os.environ["GATEHOUSE_ACCESS_LOG"]) == ("false", "0")
    assert os.environ["GATEHOUSE_ISSUER"] == "http://localhost:8123"
    metrics_dir = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    assert metrics_dir.is_dir()
    assert metrics_dir.name.startswith(f"gatehouse-metrics-{os.getpid()}-")
    assert (tmp_path / "gatehouse.db").exists()  # the SQLite default, migrated before the workers start
    metrics_dir.rmdir()


def test_the_worker_command_runs_uvicorn_with_exactly_serves_options(monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: ran.append((app, options)))
    options = cli.uvicorn_options(host="0.0.0.0", port=9000, workers=3, reload=True, log_level="warning",  # noqa: S104
                                  forwarded_allow_ips="10.0.0.0/8, 192.0.2.1")
    serve_worker.main(serve_worker.command(options)[3:])
    assert ran == [("api.app:create_app_from_env", {"factory": True, **options})]
    assert options["ws"] == "none"
    assert options["access_log"] is False  # Gatehouse writes its own
    assert options["proxy_headers"] is True


def test_metrics_directories_of_servers_no_longer_running_are_removed() -> None:
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                           check=True)
    stale = Path(tempfile.mkdtemp(prefix=f"gatehouse-metrics-{ended.stdout.strip()}-"))
    (stale / "counter_1.db").write_bytes(b"")
    live = Path(tempfile.mkdtemp(prefix=f"gatehouse-metrics-{os.getppid()}-"))  # a process that is running
    try:
        fresh = Path(fresh_multiprocess_dir())
        assert not stale.exists()
        assert live.is_dir()
        assert fresh.is_dir()
        assert fresh != live
        fresh.rmdir()
    finally:
        live.rmdir()
