"""The app's own cost per request, without uvicorn, sockets or wrk: microseconds of one `GET /users/me`.

    .venv/bin/python -m bench.in_process [--requests 20000] [--rounds 7] [--baseline] [--pg-url …]

Builds Gatehouse as `gatehouse serve` does (access log on, written to a file; default settings, a
configured EdDSA key) on a fresh Postgres database, registers and logs in one account through the app,
then calls the ASGI app directly with the same request, `--requests` times per round, and prints the
microseconds per request of each round, their median and minimum. `--baseline` runs the bench's bare
FastAPI app instead. The wrk scenarios (bench/run.py) are what the targets read; this is for profiling
and comparing commits on the same machine minutes apart, since it measures only the app's code:

    PYTHONPATH=/tmp/gh-old/src .venv/bin/python -m bench.in_process   # a worktree of the older commit
    .venv/bin/py-spy record -r 1000 -f raw -o prof.raw -- .venv/bin/python -m bench.in_process

A round's requests run one after another with no I/O between them, so access lines reach the file in
batches of 256 (api/logging_setup.py: AccessLines) rather than once per loop turn as under load.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from bench import database

Message = MutableMapping[str, Any]
App = Callable[[MutableMapping[str, Any], Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]],
               Awaitable[None]]
HOST = b"127.0.0.1:8000"


def _scope(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
            "method": method, "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
            "root_path": "", "headers": [(b"host", HOST), *headers], "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000), "state": {}}


async def _call(app: App, scope: dict[str, Any], body: bytes = b"") -> tuple[int, bytes]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return int(sent[0]["status"]), b"".join(m.get("body", b"") for m in sent[1:])


async def _access_token(app: App) -> str:
    account = json.dumps({"email": "in-process@example.com", "password": "a long bench password"}).encode()
    json_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(account)).encode())]
    status, _ = await _call(app, _scope("POST", "/auth/register", json_headers), account)
    status, body = await _call(app, _scope("POST", "/auth/login", json_headers), account)
    if status != 200:
        raise SystemExit(f"login answered {status}: {body[:200]!r}")
    return str(json.loads(body)["access_token"])


async def _measure(app: App, headers: list[tuple[bytes, bytes]], requests: int, rounds: int) -> list[float]:
    for _ in range(2000):  # warm: caches filled, code paths taken
        status, body = await _call(app, _scope("GET", "/users/me", headers))
    if status != 200:
        raise SystemExit(f"GET /users/me answered {status}: {body[:200]!r}")
    results = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(requests):
            await _call(app, _scope("GET", "/users/me", headers))
        results.append((time.perf_counter() - started) / requests * 1e6)
    return results


async def _run(baseline: bool, requests: int, rounds: int) -> list[float]:
    if baseline:
        from bench.baseline_fastapi import create_app as create_baseline

        return await _measure(create_baseline(), [], requests, rounds)
    import logging

    from sqlalchemy.ext.asyncio import create_async_engine

    from api.app import create_app
    from infrastructure.db.migrate import upgrade

    engine = create_async_engine(os.environ["GATEHOUSE_DATABASE_URL"])
    await upgrade(engine)
    await engine.dispose()
    app = create_app()
    log_file = open(os.environ["BENCH_ACCESS_LOG"], "a")  # noqa: SIM115 - open as long as the app
    logging.getLogger("gatehouse")._gatehouse_handler.setStream(log_file)  # type: ignore[attr-defined]
    async with app.router.lifespan_context(app):
        token = await _access_token(app)
        return await _measure(app, [(b"authorization", f"Bearer {token}".encode()), (b"user-agent", b"bench")],
                              requests, rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000, help="requests per round")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--baseline", action="store_true", help="the bare FastAPI app instead of Gatehouse")
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG", "postgres@127.0.0.1:5432"),
                        help="user@host:port of PostgreSQL (as bench/run.py's --pg-url)")
    options = parser.parse_args()
    import uvloop

    name = database.fresh_name()
    pg = options.pg_url.rstrip("/")
    admin_dsn = f"postgresql://{pg}/postgres"
    if not options.baseline:
        database.create_database(admin_dsn, name)
    try:
        with tempfile.TemporaryDirectory(prefix="gatehouse-in-process-") as tmp:
            key = Path(tmp) / "signing-key.pem"
            key.write_bytes(ed25519.Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
            os.environ.update(GATEHOUSE_DATABASE_URL=f"postgresql+asyncpg://{pg}/{name}",
                              GATEHOUSE_ISSUER=f"http://{HOST.decode()}", GATEHOUSE_DATA_DIR=tmp,
                              GATEHOUSE_JWT_PRIVATE_KEY=str(key), BENCH_ACCESS_LOG=str(Path(tmp) / "access.log"))
            results = uvloop.run(_run(options.baseline, options.requests, options.rounds))
    finally:
        if not options.baseline:
            database.drop_database(admin_dsn, name)
    print(f"{'bare FastAPI' if options.baseline else 'Gatehouse'} GET /users/me, µs a request: "
          f"{' '.join(f'{r:.1f}' for r in results)}; median {statistics.median(results):.1f}, "
          f"min {min(results):.1f}")


if __name__ == "__main__":
    main()
