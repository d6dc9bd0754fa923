"""`gatehouse serve` as a real subprocess on a loopback port, for tests that need a real server."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.signing_key import TEST_SIGNING_KEY_PEM

FAST_HASHING = {"GATEHOUSE_ARGON2_MEMORY_KIB": "8192", "GATEHOUSE_ARGON2_TIME_COST": "1"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    base_url: str
    process: subprocess.Popen[bytes]

    def kill(self) -> None:
        """SIGKILL, no shutdown of any kind: what a crash or an OOM kill looks like."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


STARTUP_SECONDS = 120.0  # a bound against a hung start, not a speed limit: a busy CI host may take long


def wait_healthy(server: LiveServer, log_path: Path, seconds: float = STARTUP_SECONDS) -> None:
    """Poll /health until it answers 200. Fails at once if the server process has exited (a failed start
    or a port taken since free_port), else only after `seconds`; either way with the server's stderr."""
    deadline = time.monotonic() + seconds
    with httpx.Client(timeout=1) as client:  # one client: each attempt costs a connect, not an SSL context
        while True:
            if server.process.poll() is not None:
                raise RuntimeError(f"server at {server.base_url} exited with {server.process.returncode} "
                                   f"before it was healthy:\n{_tail(log_path)}")
            try:
                if client.get(f"{server.base_url}/health").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"no healthy server at {server.base_url} after {seconds:.0f} s:\n"
                                   f"{_tail(log_path)}")
            time.sleep(0.05)


def _tail(path: Path, size: int = 4000) -> str:
    try:
        return path.read_bytes()[-size:].decode(errors="replace")
    except OSError:
        return "(no server log)"


GATEHOUSE = Path(sys.executable).parent / "gatehouse"


def process_environment(workdir: Path, env: dict[str, str]) -> dict[str, str]:
    """The environment of a `gatehouse` process working in `workdir` with `env`: the server's, and that of a
    command run beside it on the same database (the same data dir, hashing cost, database and signing key)."""
    process_env = {**os.environ, "GATEHOUSE_DATA_DIR": str(workdir / "data"), **FAST_HASHING, **env}
    if "GATEHOUSE_DATABASE_URL" not in env:
        process_env.pop("GATEHOUSE_DATABASE_URL", None)
    elif env["GATEHOUSE_DATABASE_URL"].startswith("postgresql") and not {
            "GATEHOUSE_JWT_PRIVATE_KEY", "GATEHOUSE_JWT_SECRET", "GATEHOUSE_DEV_SIGNING_KEY"} & set(env):
        process_env["GATEHOUSE_JWT_PRIVATE_KEY"] = TEST_SIGNING_KEY_PEM  # a development key is refused there
    return process_env


def gatehouse_command(workdir: Path, env: dict[str, str], *args: str, stdin: str = "",
                      timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    """`gatehouse ARGS…` as an operator runs it beside the server (e.g. `users set-roles EMAIL admin`)."""
    return subprocess.run([str(GATEHOUSE), *args], input=stdin, capture_output=True, text=True, cwd=workdir,
                          env=process_environment(workdir, env), timeout=timeout, check=False)


def service_client(workdir: Path, env: dict[str, str], name: str) -> dict[str, str]:
    """`gatehouse clients create NAME --json` as an operator runs it: the new client's id and secret."""
    made = gatehouse_command(workdir, env, "clients", "create", name, "--json")
    assert made.returncode == 0, made.stderr
    [line] = made.stdout.splitlines()  # exactly one JSON object on standard output
    credentials = json.loads(line)
    assert set(credentials) == {"client_id", "client_secret"}
    return {str(k): str(v) for k, v in credentials.items()}


@contextlib.contextmanager
def live_server(workdir: Path, port: int | None = None, workers: int = 1, environment: dict[str, str] | None = None,
                serve_args: tuple[str, ...] = (), **env: str) -> Iterator[LiveServer]:
    port = port or free_port()
    env = {**(environment or {}), **env}
    process_env = process_environment(workdir, env)
    gatehouse = GATEHOUSE
    log_path = workdir / "server.log"
    log = log_path.open("ab")  # the server's stderr: read it when a test fails
    process = subprocess.Popen([str(gatehouse), "serve", "--port", str(port), "--workers", str(workers),
                                "--no-access-log", *serve_args], cwd=workdir,
                               env=process_env, stdout=subprocess.DEVNULL, stderr=log)
    log.close()  # the child has its own descriptor
    server = LiveServer(f"http://127.0.0.1:{port}", process)
    try:
        wait_healthy(server, log_path)
        yield server
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
