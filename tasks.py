#!/usr/bin/env python3
"""Project tasks that need nothing but Python 3.11+: each creates or updates ./.venv first.

    python3 tasks.py run [gatehouse serve options]   run the service (SQLite default, no setup)
    python3 tasks.py test [pytest options]           run the whole test suite
    python3 tasks.py check                           ruff, mypy and the import-layer contracts
    python3 tasks.py bench                           the benchmark suite (see bench/README.md)
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".gatehouse-installed"
SDK = ROOT / "sdk" / "python"  # gatehouse-verify, the package sibling services install; tested with the rest
PROJECTS = ("pyproject.toml", "sdk/python/pyproject.toml")


def ensure_venv() -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"Gatehouse needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not (BIN / "python").exists():
        print("tasks: creating .venv", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    wanted = hashlib.sha256(b"".join((ROOT / p).read_bytes() for p in PROJECTS)).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    print("tasks: installing Gatehouse and its development tools into .venv", flush=True)
    pip = [str(BIN / "python"), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--upgrade", "pip"], check=True)
    # The distribution was called `gatehouse` before it became `gatehouse-auth`: drop an old install.
    subprocess.run([*pip, "uninstall", "-y", "gatehouse"], check=False, stderr=subprocess.DEVNULL)
    subprocess.run([*pip, "install", "-e", f"{ROOT}[dev]", "-e", str(SDK)], check=True)
    STAMP.write_text(wanted)


def run(args: list[str]) -> int:
    command = [str(BIN / "gatehouse"), "serve", *args]
    if os.name == "posix":  # become the server: a signal sent to this PID (Ctrl-C, kill) reaches it
        os.chdir(ROOT)
        os.execv(command[0], command)  # noqa: S606 - the point: this process becomes the server
    return subprocess.call(command, cwd=ROOT)


def test(args: list[str]) -> int:
    code = subprocess.call([str(BIN / "python"), "-m", "pytest", *args], cwd=ROOT)
    if code == 5:
        print("tasks: pytest collected no tests; that is a failure", file=sys.stderr)
        return 1
    return code


def check(_: list[str]) -> int:
    steps = [
        [str(BIN / "ruff"), "check", "src", "tests", "bench", "sdk", "tasks.py"],
        [str(BIN / "mypy")],
        [str(BIN / "lint-imports")],
    ]
    for step in steps:
        print(f"tasks: {' '.join(Path(step[0]).name if i == 0 else a for i, a in enumerate(step))}", flush=True)
        code = subprocess.call(step, cwd=ROOT)
        if code:
            return code
    return 0


def bench(args: list[str]) -> int:
    return subprocess.call([str(BIN / "python"), "-m", "bench.run", *args], cwd=ROOT)


TASKS = {"run": run, "test": test, "check": check, "bench": bench}


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in TASKS:
        print(__doc__)
        return 2
    ensure_venv()
    return TASKS[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
