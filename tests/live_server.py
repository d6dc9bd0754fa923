"""`gatehouse serve` as a real subprocess on a loopback port, for tests that need a real server."""

from __future__ import annotations

import contextlib
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


def wait_healthy(base_url: str, attempts: int = 200) -> None:
    for _ in range(attempts):
        try:
            if httpx.get(f"{base_url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"no healthy server at {base_url}")


@contextlib.contextmanager
def live_server(workdir: Path, port: int | None = None, workers: int = 1, environment: dict[str, str] | None = None,
                serve_args: tuple[str, ...] = (), **env: str) -> Iterator[LiveServer]:
    port = port or free_port()
    env = {**(environment or {}), **env}
    process_env = {**os.environ, "GATEHOUSE_DATA_DIR": str(workdir / "data"), **FAST_HASHING, **env}
    if "GATEHOUSE_DATABASE_URL" not in env:
        process_env.pop("GATEHOUSE_DATABASE_URL", None)
    elif env["GATEHOUSE_DATABASE_URL"].startswith("postgresql") and not {
            "GATEHOUSE_JWT_PRIVATE_KEY", "GATEHOUSE_JWT_SECRET", "GATEHOUSE_DEV_SIGNING_KEY"} & set(env):
        process_env["GATEHOUSE_JWT_PRIVATE_KEY"] = TEST_SIGNING_KEY_PEM  # a development key is refused there
    gatehouse = Path(sys.executable).parent / "gatehouse"
    log = (workdir / "server.log").open("ab")  # the server's stderr: read it when a test fails
    process = subprocess.Popen([str(gatehouse), "serve", "--port", str(port), "--workers", str(workers),
                                "--no-access-log", *serve_args], cwd=workdir,
                               env=process_env, stdout=subprocess.DEVNULL, stderr=log)
    log.close()  # the child has its own descriptor
    server = LiveServer(f"http://127.0.0.1:{port}", process)
    try:
        wait_healthy(server.base_url)
        yield server
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
