"""The default run keeps its files to itself: the data directory 0700, the database (with its WAL and
shared-memory files), the development key and the mail log 0600, whatever the umask lets others see."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import httpx

from tests.live_server import live_server


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_default_run_creates_its_directory_and_files_private(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)  # the usual umask: group and others could read what is not made private
    try:
        with live_server(tmp_path) as server:
            response = httpx.post(f"{server.base_url}/auth/register",
                                  json={"email": "files@example.com", "password": "correct horse battery staple"})
            assert response.status_code == 201, response.text
            data = tmp_path / "data"
            files = [data / "gatehouse.db", data / "gatehouse.db-wal", data / "gatehouse.db-shm"]
            files += [p for p in data.iterdir() if p.suffix in {".pem", ".key"} or "key" in p.name]
            assert _mode(data) == 0o700
            assert files[3:], f"no development key among {sorted(p.name for p in data.iterdir())}"
            for path in files:
                assert _mode(path) == 0o600, f"{path.name} is {oct(_mode(path))}"
    finally:
        os.umask(old_umask)


def test_an_existing_database_file_readable_by_others_is_made_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    (data / "gatehouse.db").touch(mode=0o644)
    (data / "gatehouse.db").chmod(0o644)
    with live_server(tmp_path):
        assert _mode(data / "gatehouse.db") == 0o600
