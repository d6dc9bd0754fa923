"""The machine and software a run measured on, for the report: numbers mean little without them."""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import os
import platform
import re
import subprocess
from pathlib import Path
from typing import Any

from bench.common import ROOT
from bench.database import admin

LIBRARIES = ["fastapi", "starlette", "uvicorn", "uvloop", "httptools", "sqlalchemy", "asyncpg", "pyjwt",
             "cryptography", "argon2-cffi", "pydantic", "dependency-injector"]


def collect(admin_dsn: str, options: dict[str, Any]) -> dict[str, Any]:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    meminfo = Path("/proc/meminfo").read_text()
    mem = re.search(r"^MemTotal:\s*(\d+) kB", meminfo, re.M)
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    pg = admin(admin_dsn, "SHOW server_version", "SHOW synchronous_commit")
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "cores": len(os.sched_getaffinity(0)),
        "cpu_model": model[1].strip() if model else platform.processor() or "unknown",
        "memory_gib": int(mem[1]) / 1024 / 1024 if mem else None,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "versions": versions,
        "wrk": (wrk_version.stdout or wrk_version.stderr).splitlines()[0].split(" Copyright")[0].strip(),
        "postgres": pg[0][0][0],
        "synchronous_commit": pg[1][0][0],
        "git": git_state(),
        "gatehouse_defaults": gatehouse_defaults(),
        "load_before": os.getloadavg(),
        "options": options,
    }


def git_state() -> str:
    """The commit, and a digest of src/'s uncommitted changes if any, so two runs can be told apart."""
    git = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                         text=True, check=False).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(ROOT), "diff", "HEAD", "--", "src"],
                           capture_output=True, check=False).stdout
    untracked = subprocess.run(["git", "-C", str(ROOT), "ls-files", "--others", "--exclude-standard", "src"],
                               capture_output=True, text=True, check=False).stdout.split()
    if dirty or untracked:
        state = hashlib.sha256(dirty + "".join(sorted(untracked)).encode()).hexdigest()[:10]
        git += f" + uncommitted changes in src/ (diff {state})"
    return git


def gatehouse_defaults() -> str:
    """The defaults that shape the numbers, read from Gatehouse's Settings (they change with the code)."""
    try:
        from infrastructure.settings import Settings
    except ImportError as exc:
        return f"(could not import infrastructure.settings: {exc})"
    names = ["db_pool_size", "db_max_overflow", "db_pool_pre_ping", "session_cache_seconds", "argon2_time_cost",
             "argon2_memory_kib", "argon2_parallelism", "access_token_ttl_seconds"]
    fields = Settings.model_fields
    return ", ".join(f"{name}={fields[name].default}" for name in names if name in fields) + \
        ", hash_concurrency=CPU count"
