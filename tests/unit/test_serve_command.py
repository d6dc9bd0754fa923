"""`gatehouse serve` prepares, then becomes uvicorn: the command it runs in its place, and what it leaves
for the workers (its environment, the metrics directory)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import api
from api import cli


def test_the_uvicorn_command() -> None:
    argv = cli.uvicorn_command(host="0.0.0.0", port=9000, workers=3, reload=False, log_level="warning",  # noqa: S104
                               forwarded_allow_ips="10.0.0.0/8")
    assert argv[:5] == [sys.executable, "-m", "uvicorn", "api.app:create_app_from_env", "--factory"]

    def value(flag: str) -> str:
        return argv[argv.index(flag) + 1]

    assert value("--app-dir") == str(Path(api.__file__).resolve().parent.parent)  # not the working directory's
    assert (value("--host"), value("--port"), value("--workers")) == ("0.0.0.0", "9000", "3")  # noqa: S104
    assert (value("--log-level"), value("--forwarded-allow-ips"), value("--ws")) == ("warning", "10.0.0.0/8", "none")
    assert {"--no-access-log", "--proxy-headers"} <= set(argv)
    assert "--reload" not in argv
    assert cli.uvicorn_command(host="127.0.0.1", port=1, workers=1, reload=True, log_level="info",
                               forwarded_allow_ips="127.0.0.1")[-1] == "--reload"


def test_serve_prepares_then_execs_uvicorn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    executed: list[list[str]] = []
    monkeypatch.setattr(os, "execv", lambda path, argv: executed.append([path, *argv]))
    stale = tmp_path / "metrics" / "counter_123.db"
    stale.parent.mkdir()
    stale.write_bytes(b"an earlier run's counts")
    for name in ("GATEHOUSE_ISSUER", "GATEHOUSE_AUTO_MIGRATE", "GATEHOUSE_ACCESS_LOG", "PROMETHEUS_MULTIPROC_DIR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {"GATEHOUSE_DATA_DIR": str(tmp_path), "GATEHOUSE_METRICS_TOKEN": "m" * 40}.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(cli.app, ["serve", "--port", "8123", "--no-access-log"])
    assert result.exit_code == 0, result.output
    [command] = executed
    assert command[0] == sys.executable
    assert command[1:] == cli.uvicorn_command(host="127.0.0.1", port=8123, workers=1, reload=False,
                                              log_level="info", forwarded_allow_ips="127.0.0.1")
    # What the workers inherit: migrated once here, the access-log choice, the issuer, the metrics directory.
    assert (os.environ["GATEHOUSE_AUTO_MIGRATE"], os.environ["GATEHOUSE_ACCESS_LOG"]) == ("false", "0")
    assert os.environ["GATEHOUSE_ISSUER"] == "http://localhost:8123"
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(tmp_path.resolve() / "metrics")
    assert not stale.exists()
    assert (tmp_path / "gatehouse.db").exists()  # the SQLite default, migrated before the workers start
