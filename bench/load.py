"""Load: wrk runs (the Lua scripts print one BENCH_JSON summary each) and seeding over HTTP."""

from __future__ import annotations

import asyncio
import itertools
import json
import subprocess
from pathlib import Path
from typing import Any

from bench.common import LUA, BenchError
from bench.measure import CpuMeter
from bench.processes import Processes, Servers

SEED_CONCURRENCY = 4
Running = tuple[subprocess.Popen[bytes], Path]  # a wrk process and the file its output goes to


def parse_summary(text: str) -> dict[str, Any] | None:
    """The BENCH_JSON line a script's done() prints: requests, req/s, latencies, errors, non-2xx."""
    for line in text.splitlines():
        if line.startswith("BENCH_JSON "):
            result: dict[str, Any] = json.loads(line.removeprefix("BENCH_JSON "))
            return result
    return None


class Wrk:
    """wrk runs against the servers, numbered in start order, each one's output kept in `out`."""

    def __init__(self, procs: Processes, servers: Servers, out: Path, threads: int) -> None:
        self.procs = procs
        self.servers = servers
        self.out = out
        self.threads = threads
        self.runs = 0

    def start(self, script: str, server: str, path: str, *, connections: int, duration: float,
              timeout: str, args: list[str], threads: int | None = None) -> Running:
        self.runs += 1
        threads = max(1, min(threads or self.threads, connections))
        out = self.out / f"wrk-{self.runs:03d}-{Path(script).stem}-{server}.txt"
        argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration:g}s", "--timeout", timeout, "--latency",
                "-s", str(LUA / script), self.servers.url(server, path), "--", *args]
        return self.procs.start(f"wrk-{self.runs:03d}", argv, stdout=out), out

    def finish(self, running: Running, limit: float) -> dict[str, Any]:
        proc, out = running
        try:
            proc.wait(limit)
        except subprocess.TimeoutExpired:
            raise BenchError(f"wrk did not finish within {limit:.0f} s ({out})") from None
        finally:
            self.procs.stop(proc)
        result = parse_summary(out.read_text(errors="replace"))
        if result is None:
            raise BenchError(f"wrk printed no summary (exit {proc.returncode}); see {out}")
        return result

    def run(self, script: str, server: str, path: str, *, connections: int, duration: float,
            timeout: str = "5s", args: list[str] | None = None, threads: int | None = None,
            meter_pid: int | None = None) -> tuple[dict[str, Any], CpuMeter]:
        """One run to its end, with the CPU it cost `meter_pid` and Postgres."""
        meter = CpuMeter(meter_pid)
        with meter.measure():
            running = self.start(script, server, path, connections=connections, duration=duration,
                                 timeout=timeout, args=args or [], threads=threads)
            result = self.finish(running, duration + 60)
        return result, meter


# ----------------------------------------------------------------------------------------------------------
# seeding over HTTP


async def _register(base: str, creds: list[tuple[str, str]]) -> None:
    import httpx

    semaphore = asyncio.Semaphore(SEED_CONCURRENCY)
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        async def one(email: str, password: str) -> None:
            async with semaphore:
                response = await client.post("/auth/register", json={"email": email, "password": password})
            if response.status_code != 201:
                raise BenchError(f"seeding: register {email} → {response.status_code} {response.text[:200]}")

        await asyncio.gather(*(one(e, p) for e, p in creds))


async def _log_in(base: str, creds: list[tuple[str, str]], count: int) -> list[dict[str, Any]]:
    import httpx

    semaphore = asyncio.Semaphore(SEED_CONCURRENCY)
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        async def one(email: str, password: str) -> dict[str, Any]:
            async with semaphore:
                response = await client.post("/auth/login", json={"email": email, "password": password})
            if response.status_code != 200:
                raise BenchError(f"seeding: login {email} → {response.status_code} {response.text[:200]}")
            body: dict[str, Any] = response.json()
            return body

        return await asyncio.gather(*(one(*c) for c, _ in zip(itertools.cycle(creds), range(count), strict=False)))


async def _baseline_seed(base: str, count: int) -> list[str]:
    import httpx

    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        response = await client.post("/seed", json={"count": count})
        if response.status_code != 200:
            raise BenchError(f"seeding the asyncpg baseline → {response.status_code} {response.text[:200]}")
        tokens: list[str] = response.json()["refresh_tokens"]
        return tokens


def register(base: str, creds: list[tuple[str, str]]) -> None:
    """POST /auth/register for each (email, password)."""
    asyncio.run(_register(base, creds))


def log_in(base: str, creds: list[tuple[str, str]], count: int) -> list[dict[str, Any]]:
    """`count` new sessions (POST /auth/login), cycling through the users; their token responses."""
    return asyncio.run(_log_in(base, creds, count))


def baseline_seed(base: str, count: int) -> list[str]:
    """`count` new sessions of the asyncpg baseline (POST /seed); their refresh tokens."""
    return asyncio.run(_baseline_seed(base, count))
