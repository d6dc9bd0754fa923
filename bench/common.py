"""Paths, errors, logging and number formatting that every bench module shares."""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
LUA = BENCH / "lua"
RESULTS = BENCH / "results"
DOC = ROOT / "docs" / "PERFORMANCE.md"
BIN = ROOT / ".venv" / "bin"
PYTHON = str(BIN / "python") if (BIN / "python").exists() else sys.executable
MIB = 1024 * 1024

X = "\N{MULTIPLICATION SIGN}"
NA = "\N{EN DASH}"  # an empty cell


class BenchError(RuntimeError):
    pass


class Stop(BaseException):
    """A signal (SIGTERM, SIGHUP, the watchdog's SIGALRM): unwinds like Ctrl-C, past `except Exception`."""


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def fmt(value: float | None, digits: int = 1, unit: str = "") -> str:
    if value is None:
        return NA
    return f"{value:,.{digits}f}{unit}"


def fmt_mib(value: int | None) -> str:
    return NA if value is None else f"{value / MIB:.1f} MiB"
