#!/usr/bin/env python3
"""Gatehouse benchmark suite, end to end: `python3 tasks.py bench [options]` (see bench/README.md).

Starts on loopback, each in a process group of its own: Gatehouse (uvicorn, one worker) on a fresh
PostgreSQL database, the two baseline apps, and wrk; seeds users and tokens over HTTP; runs every
scenario interleaved with its baseline (A B A B …) for a number of rounds; and writes the medians to
docs/PERFORMANCE.md (between the bench markers) and everything raw to bench/results/<stamp>/.
Whatever happens — failure, Ctrl-C, SIGTERM, the --max-minutes watchdog — it stops every process it
started and drops its database; bench/reaper.py does that too if this process is killed outright.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import hashlib
import http.client
import importlib.metadata
import itertools
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
LUA = BENCH / "lua"
RESULTS = BENCH / "results"
DOC = ROOT / "docs" / "PERFORMANCE.md"
BIN = ROOT / ".venv" / "bin"
PYTHON = str(BIN / "python") if (BIN / "python").exists() else sys.executable
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
CLK_TCK = os.sysconf("SC_CLK_TCK")
MIB = 1024 * 1024
RSS_IDLE_SECONDS = 5.0  # the worker's RSS "after all scenarios" is read after this much idle time
UVICORN_FLAGS = ["--loop", "uvloop", "--http", "httptools", "--workers", "1", "--no-access-log"]
SEED_CONCURRENCY = 4
LIBRARIES = ["fastapi", "starlette", "uvicorn", "uvloop", "httptools", "sqlalchemy", "asyncpg", "pyjwt",
             "cryptography", "argon2-cffi", "pydantic", "dependency-injector"]

X = "\N{MULTIPLICATION SIGN}"
NA = "\N{EN DASH}"  # an empty cell
TARGETS = {
    "users_me": f"≥ 0.5{X} bare FastAPI",
    "refresh": f"≥ 0.8{X} bare asyncpg, p99 ≤ 150 ms",
    "login": f"≥ 0.8{X} hashing limit",
    "health": f"p99 ≤ 4{X} p99 without flood",
    "rss": "≤ 100 MiB",
    "startup": "≤ 2 s",
}
SCENARIOS = ("startup", "users_me", "refresh", "login", "health")


class BenchError(RuntimeError):
    pass


class Stop(BaseException):
    pass


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# ----------------------------------------------------------------------------------------------------------
# processes


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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def http_status(port: int, path: str, timeout: float = 1.0) -> int | None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
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


# ----------------------------------------------------------------------------------------------------------
# /proc: CPU time and memory


def cpu_seconds(pid: int, tid: int | None = None) -> float:
    """utime + stime (fields 14 and 15 of stat) of a process (all its threads, dead ones included), or
    of one of its threads."""
    path = f"/proc/{pid}/stat" if tid is None else f"/proc/{pid}/task/{tid}/stat"
    try:
        fields = Path(path).read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def postgres_cpu() -> dict[int, float]:
    found: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        comm = text[text.find("(") + 1:text.rfind(")")]
        if comm == "postgres":
            fields = text.rsplit(")", 1)[1].split()
            found[int(entry.name)] = (int(fields[11]) + int(fields[12])) / CLK_TCK
    return found


def rss_bytes(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


@dataclass
class CpuMeter:
    pid: int | None
    server: float = 0.0
    main_thread: float = 0.0  # the event loop's thread; the rest is the threadpool (Argon2id, …)
    postgres: float = 0.0

    @contextlib.contextmanager
    def measure(self) -> Iterator[CpuMeter]:
        server_before = cpu_seconds(self.pid) if self.pid else 0.0
        main_before = cpu_seconds(self.pid, self.pid) if self.pid else 0.0
        pg_before = postgres_cpu()
        yield self
        self.server = (cpu_seconds(self.pid) - server_before) if self.pid else 0.0
        self.main_thread = (cpu_seconds(self.pid, self.pid) - main_before) if self.pid else 0.0
        pg_after = postgres_cpu()
        # backends that started during the measurement count whole; ones that exited are lost
        self.postgres = sum(max(0.0, t - pg_before.get(pid, 0.0)) for pid, t in pg_after.items())


# ----------------------------------------------------------------------------------------------------------
# Postgres: the fresh database


async def _admin(dsn: str, *statements: str) -> list[Any]:
    import asyncpg

    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        out = []
        for statement in statements:
            out.append(await conn.fetch(statement))
        return out
    finally:
        await conn.close()


def admin(dsn: str, *statements: str) -> list[Any]:
    try:
        return asyncio.run(asyncio.wait_for(_admin(dsn, *statements), 60))
    except (OSError, TimeoutError) as exc:
        where = dsn.rsplit("@", 1)[-1]
        raise BenchError(f"cannot reach PostgreSQL at {where} ({exc}); see --pg-url") from None


def drop_stale_databases(dsn: str) -> None:
    """Databases of earlier runs that were killed before even the reaper could act (the comment names
    the runner's pid; only those whose runner is gone are dropped)."""
    rows = admin(dsn, "SELECT datname, shobj_description(oid, 'pg_database') AS note FROM pg_database "
                      "WHERE datname LIKE 'gatehouse\\_bench\\_%'")[0]
    for row in rows:
        match = re.fullmatch(r"gatehouse bench runner pid=(\d+) boot=(\S+)", row["note"] or "")
        if not match:
            continue
        pid, boot = int(match[1]), match[2]
        alive = boot == boot_id() and Path(f"/proc/{pid}").exists()
        if not alive:
            log(f"dropping stale database {row['datname']} of a bench run that is gone")
            admin(dsn, f'DROP DATABASE IF EXISTS "{row["datname"]}" WITH (FORCE)')


def boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return "unknown"


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


# ----------------------------------------------------------------------------------------------------------
# results


@dataclass
class Phase:
    scenario: str
    role: str  # "baseline" or "subject"
    label: str
    round: int
    rps: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    requests: int = 0
    non2xx: int = 0
    socket_errors: int = 0
    server_cpu_s: float | None = None
    pg_cpu_s: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Row:
    scenario: str
    rps: str = NA
    p50: str = NA
    p99: str = NA
    ratio: str = NA
    target: str = NA
    met: str = NA
    non2xx: str = NA
    server_cpu: str = NA
    pg_cpu: str = NA
    rss: str = NA


def median(values: list[float | None] | list[float]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def fmt(value: float | None, digits: int = 1, unit: str = "") -> str:
    if value is None:
        return NA
    return f"{value:,.{digits}f}{unit}"


def fmt_mib(value: int | None) -> str:
    return NA if value is None else f"{value / MIB:.1f} MiB"


# ----------------------------------------------------------------------------------------------------------
# the benchmark


class Bench:
    def __init__(self, opts: argparse.Namespace) -> None:
        self.o = opts
        self.stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        self.out = RESULTS / self.stamp
        self.logs = self.out / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix="gatehouse-bench-"))
        self.reaper = Reaper()
        self.reaper.tell("dir", self.tmp)
        self.procs = Processes(self.reaper, self.logs)
        self.phases: list[Phase] = []
        self.rss: dict[str, int | None] = {}
        self.notes: list[str] = []
        self.profiles: dict[str, Path] = {}
        self.db_name: str | None = None
        self.servers: dict[str, tuple[subprocess.Popen[bytes], int]] = {}
        self.creds: list[tuple[str, str]] = []
        self.leftovers: dict[str, list[str]] = {"gatehouse": [], "asyncpg": []}
        self.wrk_runs = 0
        self.facts: dict[str, Any] = {}

    # --- lifecycle ------------------------------------------------------------------------------------

    def run(self) -> int:
        started = time.monotonic()
        try:
            self.collect_facts()
            wanted = self.o.scenarios
            if "startup" in wanted:
                self.startup()
            if set(wanted) - {"startup"}:
                self.start_servers()
                self.seed_users()
                if "users_me" in wanted:
                    self.users_me()
                if "refresh" in wanted:
                    self.refresh()
                if "login" in wanted:
                    self.login()
                if "health" in wanted:
                    self.health()
                self.rss["after_last"] = rss_bytes(self.pid("gatehouse"))
                time.sleep(RSS_IDLE_SECONDS)  # at rest: what the worker holds between bursts
                self.rss["after_all"] = rss_bytes(self.pid("gatehouse"))
                if self.o.profile:  # last, so the measured scenarios and the RSS are the same without it
                    if "users_me" in wanted:
                        self.profile_users_me()
                    if "refresh" in wanted:
                        self.profile_refresh()
                    if "login" in wanted:
                        self.profile("login", self.login_flood)
            self.facts["load_after"] = os.getloadavg()
            self.facts["elapsed_s"] = time.monotonic() - started
            self.report()
            return 0
        finally:
            self.shutdown()

    def shutdown(self) -> None:
        with contextlib.suppress(Stop):
            self.procs.stop_all()
            if self.db_name:
                try:
                    admin(self.o.admin_dsn, f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
                    self.reaper.tell("undb", self.db_name)
                    log(f"dropped database {self.db_name}")
                except Exception as exc:
                    log(f"could not drop database {self.db_name} ({exc!r}); the reaper will try")
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.reaper.tell("undir", self.tmp)
            self.reaper.close()

    def collect_facts(self) -> None:
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
        pg = admin(self.o.admin_dsn, "SHOW server_version", "SHOW synchronous_commit")
        git = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, check=False).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "diff", "HEAD", "--", "src"],
                               capture_output=True, check=False).stdout
        untracked = subprocess.run(["git", "-C", str(ROOT), "ls-files", "--others", "--exclude-standard", "src"],
                                   capture_output=True, text=True, check=False).stdout.split()
        if dirty or untracked:  # name the working tree's state, so two runs can be told apart
            state = hashlib.sha256(dirty + "".join(sorted(untracked)).encode()).hexdigest()[:10]
            git += f" + uncommitted changes in src/ (diff {state})"
        self.facts = {
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
            "git": git,
            "gatehouse_defaults": gatehouse_defaults(),
            "load_before": os.getloadavg(),
            "options": {k: v for k, v in vars(self.o).items() if k != "admin_dsn"},
        }

    # --- servers --------------------------------------------------------------------------------------

    def start_servers(self) -> None:
        drop_stale_databases(self.o.admin_dsn)
        self.db_name = f"gatehouse_bench_{secrets.token_hex(6)}"
        self.reaper.tell("db", self.o.admin_dsn, self.db_name)
        admin(self.o.admin_dsn, f'CREATE DATABASE "{self.db_name}"',
              f"COMMENT ON DATABASE \"{self.db_name}\" IS 'gatehouse bench runner pid={os.getpid()} "
              f"boot={boot_id()}'")
        log(f"created database {self.db_name}")
        pg_host = self.o.pg_url.rstrip("/")
        data_dir = self.tmp / "gatehouse-data"
        data_dir.mkdir()
        port = free_port()
        env = clean_env(
            GATEHOUSE_ACCESS_LOG="0",
            GATEHOUSE_DATABASE_URL=f"postgresql+asyncpg://{pg_host}/{self.db_name}",
            GATEHOUSE_ISSUER=f"http://127.0.0.1:{port}",
            GATEHOUSE_DATA_DIR=str(data_dir),
            GATEHOUSE_LOG_LEVEL="warning",
        )
        migrate = self.procs.start("gatehouse-migrate", [str(BIN / "gatehouse"), "migrate"], env=env, cwd=self.tmp)
        try:
            code = migrate.wait(120)
        except subprocess.TimeoutExpired:
            raise BenchError("gatehouse migrate did not finish in 120 s") from None
        finally:
            self.procs.stop(migrate)
        if code != 0:
            raise BenchError(f"gatehouse migrate failed ({code}); see {self.logs / 'gatehouse-migrate.log'}")
        self._serve("gatehouse", ["--factory", "api.app:create_app_from_env"], port, env)
        self._serve("fastapi", ["--app-dir", str(BENCH), "--factory", "baseline_fastapi:create_app"],
                    free_port(), clean_env())
        asyncpg_port = free_port()
        self._serve("asyncpg", ["--app-dir", str(BENCH), "--factory", "baseline_asyncpg:create_app"], asyncpg_port,
                    clean_env(BENCH_DATABASE_URL=f"postgresql://{pg_host}/{self.db_name}",
                              BENCH_ISSUER=f"http://127.0.0.1:{asyncpg_port}"))

    def _serve(self, name: str, app_args: list[str], port: int, env: dict[str, str]) -> None:
        argv = [str(BIN / "uvicorn"), *app_args, "--host", "127.0.0.1", "--port", str(port), *UVICORN_FLAGS,
                "--log-level", "warning"]
        proc = self.procs.start(name, argv, env=env, cwd=self.tmp)
        wait_until_answering(name, proc, port, "/health", 60, self.logs)
        self.servers[name] = (proc, port)
        self.rss[f"{name}_start"] = rss_bytes(proc.pid)
        log(f"{name} answering on 127.0.0.1:{port} (pid {proc.pid}, RSS {fmt_mib(self.rss[f'{name}_start'])})")

    def url(self, server: str, path: str) -> str:
        return f"http://127.0.0.1:{self.servers[server][1]}{path}"

    def pid(self, server: str) -> int:
        return self.servers[server][0].pid

    # --- wrk ------------------------------------------------------------------------------------------

    def start_wrk(self, script: str, server: str, path: str, *, connections: int, duration: float,
                  timeout: str, args: list[str], threads: int | None = None) -> tuple[subprocess.Popen[bytes], Path]:
        self.wrk_runs += 1
        threads = max(1, min(threads or self.o.threads, connections))
        out = self.out / f"wrk-{self.wrk_runs:03d}-{Path(script).stem}-{server}.txt"
        argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration:g}s", "--timeout", timeout, "--latency",
                "-s", str(LUA / script), self.url(server, path), "--", *args]
        return self.procs.start(f"wrk-{self.wrk_runs:03d}", argv, stdout=out), out

    def finish_wrk(self, proc: subprocess.Popen[bytes], out: Path, limit: float) -> dict[str, Any]:
        try:
            proc.wait(limit)
        except subprocess.TimeoutExpired:
            raise BenchError(f"wrk did not finish within {limit:.0f} s ({out})") from None
        finally:
            self.procs.stop(proc)
        text = out.read_text(errors="replace")
        for line in text.splitlines():
            if line.startswith("BENCH_JSON "):
                result: dict[str, Any] = json.loads(line.removeprefix("BENCH_JSON "))
                return result
        raise BenchError(f"wrk printed no summary (exit {proc.returncode}); see {out}")

    def wrk(self, script: str, server: str, path: str, *, connections: int, duration: float,
            timeout: str = "5s", args: list[str] | None = None, threads: int | None = None,
            meter_pid: int | None = None) -> tuple[dict[str, Any], CpuMeter]:
        meter = CpuMeter(meter_pid)
        with meter.measure():
            proc, out = self.start_wrk(script, server, path, connections=connections, duration=duration,
                                       timeout=timeout, args=args or [], threads=threads)
            result = self.finish_wrk(proc, out, duration + 60)
        return result, meter

    def record(self, scenario: str, role: str, label: str, round_: int, result: dict[str, Any],
               meter: CpuMeter | None, **extra: Any) -> Phase:
        errors = result["errors"]
        phase = Phase(
            scenario=scenario, role=role, label=label, round=round_, rps=result["rps"],
            p50_ms=result["p50_us"] / 1000, p99_ms=result["p99_us"] / 1000, requests=result["requests"],
            non2xx=result["non2xx"], socket_errors=errors["connect"] + errors["read"] + errors["write"]
            + errors["timeout"],
            server_cpu_s=meter.server if meter else None, pg_cpu_s=meter.postgres if meter else None,
            extra={"starved": result.get("starved", 0), "unparsed": result.get("unparsed", 0),
                   "main_thread_cpu_s": meter.main_thread if meter else None, **extra})
        self.phases.append(phase)
        bad = f", {phase.non2xx} non-2xx" if phase.non2xx else ""
        bad += f", {phase.socket_errors} socket errors" if phase.socket_errors else ""
        log(f"  {label} r{round_}: {phase.rps:,.0f} req/s, p50 {phase.p50_ms:.1f} ms, p99 {phase.p99_ms:.1f} ms"
            f", cpu server {fmt(phase.server_cpu_s, 2)} s / postgres {fmt(phase.pg_cpu_s, 2)} s{bad}")
        return phase

    def settle(self) -> None:
        time.sleep(self.o.settle)

    # --- scenarios ------------------------------------------------------------------------------------

    def startup(self) -> None:
        log(f"startup: `gatehouse serve` → GET /health answers (SQLite default), {self.o.startup_trials} trial(s)")
        for trial in range(1, self.o.startup_trials + 1):
            workdir = self.tmp / f"startup-{trial}"
            workdir.mkdir()
            port = free_port()
            started = time.perf_counter()
            proc = self.procs.start(f"startup-{trial}", [str(BIN / "gatehouse"), "serve", "--port", str(port)],
                                    env=clean_env(), cwd=workdir)
            try:
                wait_until_answering(f"startup-{trial}", proc, port, "/health", 60, self.logs)
                elapsed = time.perf_counter() - started
            finally:
                self.procs.stop(proc)
            self.phases.append(Phase("startup", "subject", "gatehouse serve → /health", trial,
                                     extra={"seconds": elapsed}))
            log(f"  trial {trial}: {elapsed:.2f} s")

    def seed_users(self) -> None:
        prefix = secrets.token_hex(3)
        self.creds = [(f"bench-{prefix}-{i}@example.com", f"bench passphrase {secrets.token_hex(8)}")
                      for i in range(self.o.users)]
        started = time.perf_counter()
        asyncio.run(_register(self.url("gatehouse", ""), self.creds))
        (self.tmp / "credentials.tsv").write_text("".join(f"{e}\t{p}\n" for e, p in self.creds))
        log(f"seeded {len(self.creds)} users over HTTP in {time.perf_counter() - started:.1f} s")

    def login_tokens(self, count: int) -> list[dict[str, Any]]:
        started = time.perf_counter()
        tokens = asyncio.run(_log_in(self.url("gatehouse", ""), self.creds, count))
        log(f"  logged in {count} sessions over HTTP in {time.perf_counter() - started:.1f} s")
        return tokens

    def users_me(self) -> None:
        log("GET /users/me (valid EdDSA token, Postgres) vs baseline (a), bare FastAPI")
        sessions = self.login_tokens(self.o.users)
        tokens = self.tmp / "access_tokens.txt"
        tokens.write_text("".join(t["access_token"] + "\n" for t in sessions))
        if http_status_with_bearer(self.servers["gatehouse"][1], sessions[0]["access_token"]) != 200:
            raise BenchError("a seeded access token does not get 200 from GET /users/me")
        self.settle()
        kwargs = {"connections": self.o.connections, "args": [str(tokens)]}
        for server in ("fastapi", "gatehouse"):
            self.wrk("users_me.lua", server, "/users/me", duration=self.o.warmup, **kwargs)
        for round_ in range(1, self.o.rounds + 1):
            result, meter = self.wrk("users_me.lua", "fastapi", "/users/me", duration=self.o.duration,
                                     meter_pid=self.pid("fastapi"), **kwargs)
            self.record("users_me", "baseline", "bare FastAPI route", round_, result, meter)
            self.settle()
            result, meter = self.wrk("users_me.lua", "gatehouse", "/users/me", duration=self.o.duration,
                                     meter_pid=self.pid("gatehouse"), **kwargs)
            self.record("users_me", "subject", "GET /users/me", round_, result, meter)
            self.settle()
        self.rss["fastapi"] = rss_bytes(self.pid("fastapi"))
        self.rss["users_me"] = rss_bytes(self.pid("gatehouse"))

    def profile_users_me(self) -> None:
        tokens = self.tmp / "access_tokens_profile.txt"  # new ones: the others may be near expiry
        tokens.write_text("".join(t["access_token"] + "\n" for t in self.login_tokens(self.o.users)))
        self.profile("users-me", lambda d: self.start_wrk(
            "users_me.lua", "gatehouse", "/users/me", connections=self.o.connections, duration=d,
            timeout="5s", args=[str(tokens)]))

    def refresh_pool(self, server: str) -> Path:
        """Unspent refresh tokens for one wrk run: the previous run's leftovers, topped up by new
        sessions (logins for Gatehouse, /seed for the baseline) to 2 per connection (+1 per thread)."""
        threads = max(1, min(self.o.threads, self.o.connections))
        wanted = 2 * self.o.connections + threads
        tokens = self.leftovers[server][:wanted]
        missing = wanted - len(tokens)
        if missing > 0 and server == "gatehouse":
            tokens += [t["refresh_token"] for t in self.login_tokens(missing)]
        elif missing > 0:
            tokens += asyncio.run(_baseline_seed(self.url("asyncpg", ""), missing))
        path = self.tmp / f"refresh-{server}-{self.wrk_runs + 1}.txt"
        path.write_text("".join(t + "\n" for t in tokens))
        return path

    def refresh_run(self, server: str, duration: float, meter_pid: int | None) -> tuple[dict[str, Any], CpuMeter]:
        threads = max(1, min(self.o.threads, self.o.connections))
        pool = self.refresh_pool(server)
        self.settle()  # let the logins' notification deliveries finish
        leftover = pool.with_suffix(".left")
        result, meter = self.wrk("refresh.lua", server, "/auth/refresh", connections=self.o.connections,
                                 duration=duration, args=[str(pool), str(threads), str(leftover)],
                                 meter_pid=meter_pid)
        self.leftovers[server] = leftover.read_text().split() if leftover.exists() else []
        return result, meter

    def refresh(self) -> None:
        log("POST /auth/refresh (every request a valid rotation, Postgres) vs baseline (b), bare asyncpg rotation")
        for server in ("asyncpg", "gatehouse"):
            self.refresh_run(server, self.o.warmup, None)
        for round_ in range(1, self.o.rounds + 1):
            result, meter = self.refresh_run("asyncpg", self.o.duration, self.pid("asyncpg"))
            self.record("refresh", "baseline", "bare asyncpg rotation", round_, result, meter)
            result, meter = self.refresh_run("gatehouse", self.o.duration, self.pid("gatehouse"))
            self.record("refresh", "subject", "POST /auth/refresh", round_, result, meter)
        self.rss["asyncpg"] = rss_bytes(self.pid("asyncpg"))
        self.rss["refresh"] = rss_bytes(self.pid("gatehouse"))

    def profile_refresh(self) -> None:
        threads = max(1, min(self.o.threads, self.o.connections))
        pool = self.refresh_pool("gatehouse")
        self.settle()
        self.profile("refresh", lambda d: self.start_wrk(
            "refresh.lua", "gatehouse", "/auth/refresh", connections=self.o.connections, duration=d,
            timeout="5s", args=[str(pool), str(threads), str(pool.with_suffix(".left"))]))

    def argon2_verify(self) -> dict[str, Any]:
        done = subprocess.run([PYTHON, str(BENCH / "argon2_verify.py"), "--count", str(self.o.verifies),
                               "--threads", str(self.facts["cores"])],
                              capture_output=True, text=True, timeout=600, cwd=self.tmp, env=clean_env(), check=False)
        if done.returncode != 0:
            raise BenchError(f"bench/argon2_verify.py failed: {done.stderr.strip()[-500:]}")
        result: dict[str, Any] = json.loads(done.stdout)
        return result

    def login_flood(self, duration: float) -> tuple[subprocess.Popen[bytes], Path]:
        return self.start_wrk("login.lua", "gatehouse", "/auth/token", connections=self.o.login_connections,
                              duration=duration, timeout="30s", args=[str(self.tmp / "credentials.tsv")])

    def login(self) -> None:
        cores = self.facts["cores"]
        log(f"POST /auth/token password grant vs baseline (c), the hashing limit ({cores} cores ÷ Argon2id verify)")
        self.wrk("login.lua", "gatehouse", "/auth/token", connections=self.o.login_connections,
                 duration=self.o.warmup, timeout="30s", args=[str(self.tmp / "credentials.tsv")])
        for round_ in range(1, self.o.rounds + 1):
            self.settle()
            verify = self.argon2_verify()
            limit = cores / verify["median_s"]
            self.phases.append(Phase("login", "baseline", "Argon2id hashing limit", round_, rps=limit,
                                     p50_ms=verify["median_s"] * 1000, p99_ms=verify["p99_s"] * 1000,
                                     extra={"verify": verify, "cores": cores}))
            log(f"  Argon2id verify r{round_}: median {verify['median_s'] * 1000:.1f} ms with {cores} threads "
                f"verifying together ({verify['alone_median_s'] * 1000:.1f} ms alone; t={verify['time_cost']}, "
                f"m={verify['memory_kib']} KiB, p={verify['parallelism']}) → limit {limit:.1f} req/s")
            self.settle()
            result, meter = self.wrk("login.lua", "gatehouse", "/auth/token", connections=self.o.login_connections,
                                     duration=self.o.duration, timeout="30s",
                                     args=[str(self.tmp / "credentials.tsv")], meter_pid=self.pid("gatehouse"))
            self.record("login", "subject", "POST /auth/token (password)", round_, result, meter)
        self.rss["login"] = rss_bytes(self.pid("gatehouse"))

    def health(self) -> None:
        log(f"GET /health with and without a login flood ({self.o.login_connections} connections on /auth/token)")
        probe = {"connections": self.o.health_connections, "threads": 1, "args": [str(self.o.health_delay_ms)]}
        for round_ in range(1, self.o.rounds + 1):
            self.settle()
            result, meter = self.wrk("health.lua", "gatehouse", "/health", duration=self.o.duration,
                                     meter_pid=self.pid("gatehouse"), **probe)
            self.record("health", "baseline", "GET /health, no flood", round_, result, meter)
            self.settle()
            lead = 2.0
            flood, flood_out = self.login_flood(self.o.duration + 2 * lead)
            try:
                time.sleep(lead)
                result, meter = self.wrk("health.lua", "gatehouse", "/health", duration=self.o.duration,
                                         meter_pid=self.pid("gatehouse"), **probe)
                flood_result = self.finish_wrk(flood, flood_out, self.o.duration + 60)
            finally:
                self.procs.stop(flood)
            self.record("health", "subject", "GET /health during login flood", round_, result, meter,
                        flood_rps=flood_result["rps"], flood_non2xx=flood_result["non2xx"],
                        flood_p99_ms=flood_result["p99_us"] / 1000)
        self.rss["health"] = rss_bytes(self.pid("gatehouse"))

    # --- profiling ------------------------------------------------------------------------------------

    def profile(self, name: str, start: Callable[[float], tuple[subprocess.Popen[bytes], Path]]) -> None:
        py_spy = BIN / "py-spy"
        if not py_spy.exists():
            log(f"profile {name}: skipped, py-spy is not installed (.venv/bin/pip install py-spy)")
            return
        from pyspy_summary import summarize

        duration = max(2, int(self.o.profile_seconds))
        raw = self.out / f"profile-{name}.raw"
        self.settle()
        log(f"profile {name}: py-spy record for {duration} s under load")
        wrk_proc, wrk_out = start(duration + 4)
        try:
            time.sleep(1.5)
            spy = self.procs.start(f"py-spy-{name}", [str(py_spy), "record", "--pid", str(self.pid("gatehouse")),
                                                      "--duration", str(duration), "--rate", "100", "--format",
                                                      "raw", "--nolineno", "--full-filenames", "--output", str(raw)])
            try:
                spy.wait(duration + 60)
            finally:
                self.procs.stop(spy)
            result = self.finish_wrk(wrk_proc, wrk_out, duration + 60)
        finally:
            self.procs.stop(wrk_proc)
        if not raw.exists():
            log(f"profile {name}: py-spy wrote nothing; see {self.logs / f'py-spy-{name}.log'}")
            return
        connections = self.o.login_connections if name == "login" else self.o.connections
        title = (f"py-spy profile of the Gatehouse worker under {name} load ({connections} connections, "
                 f"{duration} s at 100 Hz; {result['rps']:,.0f} req/s while profiled, {result['non2xx']} non-2xx)")
        summary = summarize(raw, top=self.o.profile_top, title=title)
        for target in (self.out / f"profile-{name}.txt", RESULTS / f"profile-{name}.txt"):
            target.write_text(summary)
        shutil.copyfile(raw, RESULTS / f"profile-{name}.raw")
        self.profiles[name] = RESULTS / f"profile-{name}.txt"
        log(f"profile {name}: summary in {RESULTS / f'profile-{name}.txt'}")

    # --- report ---------------------------------------------------------------------------------------

    def phases_of(self, scenario: str, role: str) -> list[Phase]:
        return [p for p in self.phases if p.scenario == scenario and p.role == role]

    def paired(self, scenario: str, ratio: Callable[[Phase, Phase], float | None]) -> float | None:
        pairs = zip(self.phases_of(scenario, "baseline"), self.phases_of(scenario, "subject"), strict=False)
        return median([r for a, b in pairs if (r := ratio(a, b)) is not None])

    def row(self, scenario: str, role: str, label: str, rss: int | None = None) -> Row:
        phases = self.phases_of(scenario, role)
        return Row(
            scenario=label,
            rps=fmt(median([p.rps for p in phases]), 0 if scenario != "login" else 1),
            p50=fmt(median([p.p50_ms for p in phases]), 1, " ms"),
            p99=fmt(median([p.p99_ms for p in phases]), 1, " ms"),
            non2xx=str(sum(p.non2xx + p.socket_errors for p in phases)) if phases and phases[0].requests else NA,
            server_cpu=fmt(median([p.server_cpu_s for p in phases]), 2, " s"),
            pg_cpu=fmt(median([p.pg_cpu_s for p in phases]), 2, " s"),
            rss=fmt_mib(rss),
        )

    def verdicts(self) -> tuple[list[Row], list[tuple[str, bool]]]:
        rows: list[Row] = []
        checks: list[tuple[str, bool]] = []

        def verdict(ok: bool, invalid: int) -> str:
            if invalid:
                return f"**no** ({invalid} failed requests)"
            return "yes" if ok else "**no**"

        def failed(scenario: str) -> int:
            return sum(p.non2xx + p.socket_errors for p in self.phases_of(scenario, "subject"))

        if self.phases_of("users_me", "subject"):
            rows.append(self.row("users_me", "baseline", "baseline (a): bare FastAPI route", self.rss.get("fastapi")))
            row = self.row("users_me", "subject", "`GET /users/me`, valid EdDSA token, Postgres",
                           self.rss.get("users_me"))
            ratio = self.paired("users_me", lambda a, b: b.rps / a.rps if a.rps and b.rps else None)
            ok = ratio is not None and ratio >= 0.5
            row.ratio, row.target, row.met = fmt(ratio, 2, X), TARGETS["users_me"], verdict(ok, failed("users_me"))
            rows.append(row)
            checks.append(("users_me", ok and not failed("users_me")))
        if self.phases_of("refresh", "subject"):
            rows.append(self.row("refresh", "baseline", "baseline (b): bare asyncpg rotation", self.rss.get("asyncpg")))
            row = self.row("refresh", "subject", "`POST /auth/refresh`, every request a valid rotation, Postgres",
                           self.rss.get("refresh"))
            ratio = self.paired("refresh", lambda a, b: b.rps / a.rps if a.rps and b.rps else None)
            p99 = median([p.p99_ms for p in self.phases_of("refresh", "subject")])
            ok = ratio is not None and ratio >= 0.8 and p99 is not None and p99 <= 150
            row.ratio, row.target, row.met = fmt(ratio, 2, X), TARGETS["refresh"], verdict(ok, failed("refresh"))
            rows.append(row)
            checks.append(("refresh", ok and not failed("refresh")))
        if self.phases_of("login", "subject"):
            base = self.phases_of("login", "baseline")
            verify_ms = median([p.p50_ms for p in base])
            alone_ms = median([p.extra["verify"]["alone_median_s"] * 1000 for p in base])
            rows.append(Row(scenario=f"baseline (c): hashing limit = {self.facts['cores']} cores ÷ "
                                     f"{fmt(verify_ms, 1)} ms Argon2id verify with every core verifying "
                                     f"({fmt(alone_ms, 1)} ms alone; p50/p99: verify time)",
                            rps=fmt(median([p.rps for p in base]), 1), p50=fmt(verify_ms, 1, " ms"),
                            p99=fmt(median([p.p99_ms for p in base]), 1, " ms")))
            row = self.row("login", "subject", "`POST /auth/token` password grant, valid credentials",
                           self.rss.get("login"))
            ratio = self.paired("login", lambda a, b: b.rps / a.rps if a.rps and b.rps else None)
            ok = ratio is not None and ratio >= 0.8
            row.ratio, row.target, row.met = fmt(ratio, 2, X), TARGETS["login"], verdict(ok, failed("login"))
            rows.append(row)
            checks.append(("login", ok and not failed("login")))
        if self.phases_of("health", "subject"):
            rows.append(self.row("health", "baseline", "`GET /health`, no flood"))
            row = self.row("health", "subject", "`GET /health` while a login flood runs", self.rss.get("health"))
            ratio = self.paired("health", lambda a, b: b.p99_ms / a.p99_ms if a.p99_ms and b.p99_ms else None)
            ok = ratio is not None and ratio <= 4
            row.ratio, row.target = fmt(ratio, 2, f"{X} p99"), TARGETS["health"]
            row.met = verdict(ok, failed("health"))
            rows.append(row)
            checks.append(("health", ok and not failed("health")))
        if "after_all" in self.rss:
            rss = self.rss["after_all"]
            ok = rss is not None and rss <= 100 * MIB
            rows.append(Row(scenario=f"Gatehouse worker RSS after all scenarios, {RSS_IDLE_SECONDS:g} s idle "
                                     f"(right after the last scenario: {fmt_mib(self.rss.get('after_last'))}; "
                                     f"right after start: {fmt_mib(self.rss.get('gatehouse_start'))}; bare "
                                     f"FastAPI {fmt_mib(self.rss.get('fastapi_start'))})", target=TARGETS["rss"],
                            met=verdict(ok, 0), rss=fmt_mib(rss)))
            checks.append(("rss", ok))
        startup = self.phases_of("startup", "subject")
        if startup:
            seconds = median([p.extra["seconds"] for p in startup])
            ok = seconds is not None and seconds <= 2
            rows.append(Row(scenario=f"run command → `/health` answers (`gatehouse serve`, SQLite default, median "
                                     f"of {len(startup)})", rps=fmt(seconds, 2, " s"), target=TARGETS["startup"],
                            met=verdict(ok, 0)))
            checks.append(("startup", ok))
        return rows, checks

    def render(self) -> str:
        rows, checks = self.verdicts()
        f, o = self.facts, self.o
        lines = [
            BEGIN,
            "<!-- Generated by `python3 tasks.py bench` (bench/run.py); edits between these markers are "
            "overwritten. -->",
            "",
            f"## Results ({'quick smoke run, not representative' if o.quick else 'full run'}, {f['date']})",
            "",
            f"{sum(ok for _, ok in checks)} of {len(checks)} targets met. Medians of {o.rounds} round(s) of "
            f"{o.duration:g} s per scenario, each round run right after its baseline (A B A B …); ratios are "
            "the median of the per-round ratios (see bench/README.md). CPU columns: CPU seconds used during "
            "one round (median) by the server process and by all `postgres` processes; failed = non-2xx "
            "responses plus socket errors/timeouts over all rounds (a correct run has none).",
            "",
            "| scenario | req/s | p50 | p99 | ratio to baseline | target | met? | failed | server CPU | "
            "Postgres CPU | worker RSS |",
            "|---|---:|---:|---:|---:|---|---|---:|---:|---:|---:|",
        ]
        lines += [f"| {r.scenario} | {r.rps} | {r.p50} | {r.p99} | {r.ratio} | {r.target} | {r.met} | {r.non2xx} "
                  f"| {r.server_cpu} | {r.pg_cpu} | {r.rss} |" for r in rows]
        lines += [
            "",
            f"Load: wrk, {o.threads} threads, {o.connections} connections for `/users/me` and `/auth/refresh`, "
            f"{o.login_connections} for the password grant and the login flood; the `/health` probe is "
            f"{o.health_connections} connections each pausing {o.health_delay_ms} ms between requests. "
            f"{o.users} seeded users; refresh pools of {2 * o.connections} tokens (2 per connection).",
            "",
            "### Rounds",
            "",
            "Server CPU is split into the event loop's thread and the other threads (threadpool: Argon2id, "
            "sync dependencies); per request = CPU seconds ÷ requests.",
            "",
            "| scenario | round | req/s | p50 | p99 | requests | failed | server CPU (loop + threads) | "
            "server CPU/req | Postgres CPU/req | notes |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for p in self.phases:
            if p.scenario == "startup":
                lines.append(f"| {p.label} | {p.round} | | | | | | | | | {p.extra['seconds']:.2f} s |")
                continue
            notes = ""
            if "verify" in p.extra:
                v = p.extra["verify"]
                notes = (f"{v['count']} verifies in {v['threads']} threads at once, t={v['time_cost']} "
                         f"m={v['memory_kib']} KiB p={v['parallelism']}, min {v['min_s'] * 1000:.1f} ms; "
                         f"alone {v['alone_median_s'] * 1000:.1f} ms")
            elif "flood_rps" in p.extra:
                notes = (f"flood {p.extra['flood_rps']:.1f} req/s, p99 {p.extra['flood_p99_ms']:.0f} ms, "
                         f"{p.extra['flood_non2xx']} non-2xx")
            if p.extra.get("starved") or p.extra.get("unparsed"):
                notes += f" starved {p.extra['starved']}, unparsed {p.extra['unparsed']}"
            failed = "" if not p.requests else str(p.non2xx + p.socket_errors)
            cpu = per_request = pg_per_request = ""
            if p.server_cpu_s is not None and p.requests:
                main = min(p.extra.get("main_thread_cpu_s") or 0.0, p.server_cpu_s)  # read a tick apart
                cpu = f"{p.server_cpu_s:.2f} s ({main:.2f} + {p.server_cpu_s - main:.2f})"
                per_request = f"{1000 * p.server_cpu_s / p.requests:.2f} ms"
                pg_per_request = f"{1000 * (p.pg_cpu_s or 0.0) / p.requests:.2f} ms"
            lines.append(f"| {p.label} | {p.round} | {fmt(p.rps, 1)} | {fmt(p.p50_ms, 1, ' ms')} | "
                         f"{fmt(p.p99_ms, 1, ' ms')} | {p.requests or ''} | {failed} | {cpu} | {per_request} | "
                         f"{pg_per_request} | {notes} |")
        versions = ", ".join(f"{k} {v}" for k, v in f["versions"].items())
        load_before = " ".join(f"{x:.2f}" for x in f["load_before"])
        load_after = " ".join(f"{x:.2f}" for x in f.get("load_after", ()))
        lines += [
            "",
            "### Machine and software",
            "",
            f"- Date: {f['date']}; commit {f['git']}; the run took {f.get('elapsed_s', 0) / 60:.1f} min",
            f"- Machine: {f['nproc']} cores (nproc; {f['cores']} usable), {f['cpu_model']}, "
            f"{fmt(f['memory_gib'], 1)} GiB memory, Linux {f['kernel']}; load average before {load_before}, "
            f"after {load_after} (a shared machine: other work runs at the same time)",
            f"- Python {f['python']}; {versions}",
            f"- PostgreSQL {f['postgres']} on 127.0.0.1 (synchronous_commit={f['synchronous_commit']}), "
            f"fresh database per run; {f['wrk']}",
            "- Servers: `uvicorn --factory … --loop uvloop --http httptools --workers 1 --no-access-log`; "
            "Gatehouse with GATEHOUSE_ACCESS_LOG=0, GATEHOUSE_LOG_LEVEL=warning, EdDSA dev key, otherwise "
            f"its defaults: {f['gatehouse_defaults']}",
            f"- Command: `{' '.join(['python3 tasks.py bench', *o.argv])}`",
        ]
        if self.profiles:
            lines += ["", "Profiles (py-spy, git-ignored): " + ", ".join(
                f"`{p.relative_to(ROOT)}`" for p in self.profiles.values())]
        lines += [*self.notes, END]
        return "\n".join(lines) + "\n"

    def report(self) -> None:
        text = self.render()
        (self.out / "report.md").write_text(text)
        (self.out / "results.json").write_text(json.dumps(
            {"facts": self.facts, "phases": [asdict(p) for p in self.phases], "rss": self.rss},
            indent=2, default=str))
        print()
        print(text)
        if self.o.docs:
            write_doc(text)
            log(f"wrote {DOC.relative_to(ROOT)} (generated part) and {self.out.relative_to(ROOT)}/")
        else:
            log(f"wrote {self.out.relative_to(ROOT)}/ (docs/PERFORMANCE.md untouched: --quick or --no-docs)")


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


def http_status_with_bearer(port: int, token: str) -> int | None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/users/me", headers={"Authorization": f"Bearer {token}"})
        response = conn.getresponse()
        response.read()
        return response.status
    except OSError:
        return None
    finally:
        conn.close()


DOC_HEAD = """# Performance

How fast Gatehouse is on this project's machines, measured by the benchmark suite in `bench/`
(`python3 tasks.py bench`; see bench/README.md for what each scenario and baseline is). The section
between the bench markers is generated by each full run; everything outside them is kept.

"""

DOC_TAIL = """
## Notes

Hand-written observations go here (outside the markers, so a new run keeps them).
"""


def write_doc(generated: str) -> None:
    DOC.parent.mkdir(parents=True, exist_ok=True)
    if DOC.exists():
        current = DOC.read_text()
        if BEGIN in current and END in current:
            head, rest = current.split(BEGIN, 1)
            tail = rest.split(END, 1)[1]
            DOC.write_text(head + generated.rstrip("\n") + tail)
            return
        DOC.write_text(current.rstrip("\n") + "\n\n" + generated)
        return
    DOC.write_text(DOC_HEAD + generated + DOC_TAIL)


# ----------------------------------------------------------------------------------------------------------
# command line


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python3 tasks.py bench", description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="short smoke run: 1 round of 2 s, 10 connections, 1 startup trial; results go to "
                             "bench/results/ only unless --docs")
    parser.add_argument("--rounds", type=int, help="rounds per scenario (A B per round) [3; quick 1]")
    parser.add_argument("--duration", type=float, help="seconds per wrk run [10; quick 2]")
    parser.add_argument("--warmup", type=float, help="seconds of unrecorded load before a scenario [2; quick 1]")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, help="wrk connections for /users/me and /auth/refresh "
                                                        "[50; quick 10]")
    parser.add_argument("--login-connections", type=int, default=8,
                        help="wrk connections for the password grant and the login flood")
    parser.add_argument("--health-connections", type=int, default=4, help="connections of the /health probe")
    parser.add_argument("--health-delay-ms", type=int, default=10,
                        help="pause of each /health probe connection between its requests")
    parser.add_argument("--users", type=int, help="users seeded over HTTP [20; quick 6]")
    parser.add_argument("--verifies", type=int, help="Argon2id verifies timed per round [40; quick 8]")
    parser.add_argument("--startup-trials", type=int, help="`gatehouse serve` start-up trials [3; quick 1]")
    parser.add_argument("--settle", type=float, default=1.0, help="idle seconds between runs")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS),
                        help=f"comma-separated subset of {','.join(SCENARIOS)}")
    parser.add_argument("--profile", action="store_true",
                        help="also py-spy the Gatehouse worker under /users/me, /auth/refresh and password-grant "
                             "load, after the measured scenarios (summaries in bench/results/profile-*.txt)")
    parser.add_argument("--profile-seconds", type=float, default=10, help="length of each py-spy recording")
    parser.add_argument("--profile-top", type=int, default=25, help="rows per list in a profile summary")
    parser.add_argument("--docs", action=argparse.BooleanOptionalAction, default=None,
                        help="write docs/PERFORMANCE.md [yes; quick no]")
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG", "postgres@127.0.0.1:5432"),
                        help="user@host:port of the PostgreSQL server (trust auth) [env BENCH_PG]")
    parser.add_argument("--max-minutes", type=float, default=30, help="watchdog: stop everything after this")
    opts = parser.parse_args(argv)
    quick = opts.quick
    defaults = {"rounds": (3, 1), "duration": (10.0, 2.0), "warmup": (2.0, 1.0), "connections": (50, 10),
                "users": (20, 6), "verifies": (40, 8), "startup_trials": (3, 1), "docs": (True, False)}
    for name, (full, smoke) in defaults.items():
        if getattr(opts, name) is None:
            setattr(opts, name, smoke if quick else full)
    opts.scenarios = [s.strip() for s in opts.scenarios.split(",") if s.strip()]
    unknown = set(opts.scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    if opts.rounds < 1 or opts.duration <= 0 or opts.connections < 1:
        parser.error("--rounds, --duration and --connections must be positive")
    opts.admin_dsn = f"postgresql://{opts.pg_url.rstrip('/')}/postgres"
    opts.argv = argv
    return opts


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


def main(argv: list[str]) -> int:
    opts = parse_args(argv)

    def stop(signum: int, _frame: object) -> None:
        raise Stop(f"stopped by {signal.Signals(signum).name}")

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    signal.signal(signal.SIGALRM, stop)
    signal.alarm(int(opts.max_minutes * 60))
    try:
        preflight()
        bench = Bench(opts)
        log(f"results in {bench.out.relative_to(ROOT)}/")
        return bench.run()
    except BenchError as exc:
        log(f"FAILED: {exc}")
        return 1
    except (KeyboardInterrupt, Stop) as exc:
        log(f"interrupted ({exc or 'Ctrl-C'}); everything started was stopped")
        return 130
    finally:
        signal.alarm(0)


if __name__ == "__main__":
    sys.path.insert(0, str(BENCH))
    sys.exit(main(sys.argv[1:]))
