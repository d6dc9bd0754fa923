"""Child processes: each in a process group of its own, told to the reaper, stopped whole and in time."""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import IO

from bench.common import BENCH, BIN, PYTHON, ROOT, BenchError, log

UVICORN_FLAGS = ["--loop", "uvloop", "--http", "httptools", "--workers", "1", "--no-access-log"]


class Reaper:
    """bench/reaper.py in its own session: cleans up after us if we are killed before `finally` runs."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen([PYTHON, str(BENCH / "reaper.py")], stdin=subprocess.PIPE, text=True,
                                     start_new_session=True, cwd=ROOT)

    def tell(self, *words: object) -> None:
        if self.proc.stdin is None:
            return
        with contextlib.suppress(BrokenPipeError, OSError, ValueError):
            self.proc.stdin.write(" ".join(str(w) for w in words) + "\n")
            self.proc.stdin.flush()

    def close(self) -> None:
        self.tell("bye")
        with contextlib.suppress(OSError, ValueError):
            if self.proc.stdin:
                self.proc.stdin.close()
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class Processes:
    """Every child in a process group of its own, stopped (the whole group) in reverse start order."""

    def __init__(self, reaper: Reaper, logs: Path) -> None:
        self.reaper = reaper
        self.logs = logs
        self.live: list[tuple[str, subprocess.Popen[bytes]]] = []
        self._files: dict[int, IO[bytes]] = {}

    def start(self, name: str, argv: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None,
              stdout: Path | None = None) -> subprocess.Popen[bytes]:
        log_file = (self.logs / f"{name}.log").open("ab")
        out = stdout.open("wb") if stdout else log_file
        proc = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=log_file,
                                start_new_session=True)
        if stdout:
            out.close()
        self.reaper.tell("pg", proc.pid)
        self.live.append((name, proc))
        self._files[proc.pid] = log_file
        return proc

    def run(self, name: str, argv: list[str], *, what: str, limit: float, env: dict[str, str] | None = None,
            cwd: Path | None = None) -> None:
        """Start a command and wait for it to succeed (`what` names it in the error)."""
        proc = self.start(name, argv, env=env, cwd=cwd)
        try:
            code = proc.wait(limit)
        except subprocess.TimeoutExpired:
            raise BenchError(f"{what} did not finish in {limit:g} s") from None
        finally:
            self.stop(proc)
        if code != 0:
            raise BenchError(f"{what} failed ({code}); see {self.logs / f'{name}.log'}")

    def stop(self, proc: subprocess.Popen[bytes], grace: float = 5.0) -> None:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(grace)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)  # anything left in the group, leader included
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(5)
        self.reaper.tell("unpg", proc.pid)
        self.live = [(n, p) for n, p in self.live if p is not proc]
        log_file = self._files.pop(proc.pid, None)
        if log_file:
            log_file.close()

    def stop_all(self) -> None:
        for _, proc in reversed(list(self.live)):
            self.stop(proc, grace=3.0)


class Servers:
    """The measured servers by name, each one uvicorn worker with the same flags, answering on loopback."""

    def __init__(self, procs: Processes, cwd: Path) -> None:
        self.procs = procs
        self.cwd = cwd
        self.running: dict[str, tuple[subprocess.Popen[bytes], int]] = {}

    def serve(self, name: str, app_args: list[str], port: int, env: dict[str, str],
              argv: list[str] | None = None) -> subprocess.Popen[bytes]:
        """uvicorn with `app_args` and the common flags, or the given command line (Gatehouse's: `gatehouse
        serve`'s own, bench/run.py)."""
        argv = argv or [str(BIN / "uvicorn"), *app_args, "--host", "127.0.0.1", "--port", str(port), *UVICORN_FLAGS,
                        "--log-level", "warning"]
        proc = self.procs.start(name, argv, env=env, cwd=self.cwd)
        wait_until_answering(name, proc, port, "/health", 60, self.procs.logs)
        self.running[name] = (proc, port)
        return proc

    def url(self, name: str, path: str) -> str:
        return f"http://127.0.0.1:{self.port(name)}{path}"

    def port(self, name: str) -> int:
        return self.running[name][1]

    def pid(self, name: str) -> int:
        return self.running[name][0].pid


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def http_status(port: int, path: str, timeout: float = 1.0, token: str | None = None) -> int | None:
    """The status of one GET on loopback, None when nothing answers."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"} if token else {})
        response = conn.getresponse()
        response.read()
        return response.status
    except OSError:
        return None
    finally:
        conn.close()


def wait_until_answering(name: str, proc: subprocess.Popen[bytes], port: int, path: str, limit: float,
                         logs: Path) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < limit:
        if proc.poll() is not None:
            raise BenchError(f"{name} exited with status {proc.returncode}; see {logs / (name + '.log')}")
        if http_status(port, path, timeout=0.5) == 200:
            return time.perf_counter() - started
        time.sleep(0.01)
    raise BenchError(f"{name} did not answer GET {path} within {limit:.0f} s; see {logs / (name + '.log')}")


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GATEHOUSE_", "BENCH_"))}
    env.update(extra)
    return env


def preflight() -> None:
    if shutil.which("wrk") is None:
        install_wrk()
    if shutil.which("wrk") is None:
        raise BenchError("wrk is not installed (Debian: apt-get update && apt-get install -y wrk)")
    for tool in ("uvicorn", "gatehouse"):
        if not (BIN / tool).exists():
            raise BenchError(f"{BIN / tool} is missing: run `python3 tasks.py bench` (it installs the venv)")


def install_wrk() -> None:
    """A fresh Debian machine has no wrk: install the distribution's package when we may (root, apt)."""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return
    log("wrk is missing: installing Debian's package (apt-get install -y wrk)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}

    def apt_get(*args: str) -> None:
        subprocess.run(["apt-get", *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=600, check=False)

    apt_get("install", "-y", "-q", "wrk")
    if shutil.which("wrk") is None:  # stale package lists on a new machine
        apt_get("update", "-q")
        apt_get("install", "-y", "-q", "wrk")
