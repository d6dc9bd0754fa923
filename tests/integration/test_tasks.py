"""`python3 tasks.py run` is the server process: stopping it by its PID stops the server, and the port
is free for the next run."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.live_server import LiveServer, free_port, wait_healthy

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(os.name != "posix", reason="signals to a PID are POSIX")
def test_stopping_tasks_run_by_its_pid_stops_the_server(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEHOUSE_")}
    env["GATEHOUSE_DATA_DIR"] = str(tmp_path / "data")
    log_path = tmp_path / "server.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen([sys.executable, str(ROOT / "tasks.py"), "run", "--port", str(port)], env=env,
                                   stdout=subprocess.DEVNULL, stderr=log)
    try:
        wait_healthy(LiveServer(f"http://127.0.0.1:{port}", process), log_path)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) is not None
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))  # nothing is left listening on it
        probe.listen()
