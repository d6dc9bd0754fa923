"""Does the answer of POST /auth/password-reset tell whether an address is registered? Measured, not asserted.

    .venv/bin/python -m bench.reset_timing [--requests 200] [--smtp-delay 0.2]

Starts `gatehouse serve` as the README does (SQLite default, a fresh directory, access log on) with two
changes: the per-client-address limit raised so one client can measure (`GATEHOUSE_PASSWORD_RESET_MAX_PER_IP`),
and, with `--smtp-delay`, the `smtp` notifier pointed at a local aiosmtpd server that takes that long to
accept each mail (a slow mail server, as Keycloak's reset answer waits for). Then it sends reset requests
for registered and unknown addresses, interleaved (each registered address at most 3 times: the mail cap),
each on its own connection, pausing between them so one request's after-response work never overlaps the
next, and prints the medians and 90th percentiles of the client-side latency.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench.common import BIN
from bench.processes import free_port, wait_until_answering

PASSWORD = "correct horse battery staple"


def _serve(workdir: Path, port: int, smtp_port: int | None, database_url: str | None) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEHOUSE_")}
    env["GATEHOUSE_PASSWORD_RESET_MAX_PER_IP"] = "1000000"
    if database_url:  # a migrated Postgres database; the development key is allowed for the measurement
        env.update(GATEHOUSE_DATABASE_URL=database_url, GATEHOUSE_DEV_SIGNING_KEY="true")
    if smtp_port is not None:
        env.update(GATEHOUSE_NOTIFIER="smtp", GATEHOUSE_SMTP_HOST="127.0.0.1", GATEHOUSE_SMTP_PORT=str(smtp_port),
                   GATEHOUSE_SMTP_TLS="none")
    log = (workdir / "gatehouse.log").open("ab")
    return subprocess.Popen([str(BIN / "gatehouse"), "serve", "--port", str(port)], cwd=workdir, env=env,
                            stdout=subprocess.DEVNULL, stderr=log)


class SlowInbox:
    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.received = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        await asyncio.sleep(self.delay)
        self.received += 1
        return "250 OK"


async def _measure(base_url: str, requests: int, pause: float) -> dict[str, list[float]]:
    registered = [f"timing-{uuid.uuid4().hex[:10]}@example.com" for _ in range(requests // 3 + 1)]
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        for email in registered:
            assert (await client.post("/auth/register", json={"email": email, "password": PASSWORD})
                    ).status_code == 201
    times: dict[str, list[float]] = {"registered": [], "unknown": []}
    answers: set[tuple[int, bytes]] = set()
    # In pairs, in random order within each pair: a slot effect (the first of each pair was slower at p90,
    # whichever kind it was) then falls on both kinds alike.
    order = [kind for _ in range(requests) for kind in random.sample(["registered", "unknown"], 2)]
    for n, kind in enumerate(order):
        email = registered[(n // 2) // 3] if kind == "registered" else f"nobody-{uuid.uuid4().hex[:10]}@example.com"
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:  # its own connection
            started = time.perf_counter()
            response = await client.post("/auth/password-reset", json={"email": email})
            times[kind].append((time.perf_counter() - started) * 1000)
        answers.add((response.status_code, response.content))
        await asyncio.sleep(pause)  # the after-response work of this request is done before the next
    assert answers == {(202, b'{"status":"accepted"}')}, answers
    return times


def _summary(values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[int(len(ordered) * 0.9) - 1]
    return f"median {statistics.median(ordered):6.2f} ms   p90 {p90:6.2f} ms   (n={len(ordered)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="requests per kind of address")
    parser.add_argument("--smtp-delay", type=float, default=None,
                        help="use the smtp notifier against a local server that takes this many seconds per mail")
    parser.add_argument("--pause", type=float, default=0.05, help="seconds between requests")
    parser.add_argument("--database-url", default=None,
                        help="a migrated Postgres database (postgresql+asyncpg://…) instead of the SQLite default")
    args = parser.parse_args()
    controller = None
    smtp_port = None
    inbox = None
    if args.smtp_delay is not None:
        from aiosmtpd.controller import Controller

        inbox = SlowInbox(args.smtp_delay)
        smtp_port = free_port()
        controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port, ready_timeout=60)
        controller.start()
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="gatehouse-reset-timing-") as tmp:
        server = _serve(Path(tmp), port, smtp_port, args.database_url)
        try:
            wait_until_answering("gatehouse", server, port, "/health", 120, Path(tmp))
            times = asyncio.run(_measure(f"http://127.0.0.1:{port}", args.requests, args.pause))
        finally:
            server.terminate()
            server.wait(timeout=10)
            if controller is not None:
                controller.stop()
    database = "Postgres" if args.database_url else "SQLite"
    notifier = "log notifier" if args.smtp_delay is None else f"smtp notifier, {args.smtp_delay * 1000:.0f} ms per mail"
    mode = f"{database}, {notifier}"
    print(f"POST /auth/password-reset, gatehouse serve defaults ({mode}):")
    for kind, values in times.items():
        print(f"  {kind:<10} {_summary(values)}")
    if inbox is not None:
        print(f"  mails accepted by the SMTP server: {inbox.received}")


if __name__ == "__main__":
    main()
