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
import base64
import contextlib
import datetime as dt
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from api import serve_worker
from api.cli import uvicorn_options
from bench import database, facts, load, profiling, report, scale
from bench.common import BENCH, BIN, RESULTS, ROOT, BenchError, Stop, fmt, fmt_mib, log
from bench.load import Running, Wrk
from bench.measure import (
    RSS_IDLE_SECONDS,
    SCALE_SUFFIX,
    CpuMeter,
    Phase,
    Results,
    argon2_verify,
    phase_from_wrk,
    rss_bytes,
)
from bench.processes import (
    Processes,
    Reaper,
    Servers,
    clean_env,
    free_port,
    http_status,
    preflight,
    wait_until_answering,
)

SCENARIOS = ("startup", "users_me", "introspect", "sibling", "refresh", "login", "health", "admin_users",
             "security_events")
# Measured again on the seeded database with --scale (each as `<name>_scale`), in this order.
SCALE_SCENARIOS = ("users_me", "refresh", "login", "admin_users", "security_events")
# In the default list only with --scale: their target is the scale quotient (bench/targets.py, SCALE_TARGETS).
SCALE_ONLY = ("admin_users", "security_events")


class Bench:
    """One run: its processes, its database, the scenarios in order, and what they measured."""

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
        self.servers = Servers(self.procs, self.tmp)
        self.wrk = Wrk(self.procs, self.servers, self.out, opts.threads)
        self.results = Results()
        self.notes: list[str] = []
        self.profiles: dict[str, Path] = {}
        self.db_name: str | None = None
        self.creds: list[tuple[str, str]] = []
        self.leftovers: dict[str, list[str]] = {"gatehouse": [], "asyncpg": []}
        self.facts: dict[str, Any] = {}
        self.gatehouse_env: dict[str, str] = {}
        self.prefix = ""  # of the bench's own addresses: bench-<prefix>-<i>@example.com
        self.admin: tuple[str, str] | None = None  # made with `gatehouse users create --role admin`
        self.plans_summary: list[scale.Plan] = []

    # --- lifecycle ------------------------------------------------------------------------------------

    def run(self) -> int:
        started = time.monotonic()
        try:
            self.facts = facts.collect(self.o.admin_dsn, {k: v for k, v in vars(self.o).items() if k != "admin_dsn"})
            wanted = self.o.scenarios
            if "startup" in wanted:
                self.startup()
            if set(wanted) - {"startup"}:
                self.start_servers()
                self.seed_users()
                if "users_me" in wanted:
                    self.users_me()
                if "introspect" in wanted:
                    self.introspect()
                if "sibling" in wanted:
                    self.sibling()
                if "refresh" in wanted:
                    self.refresh()
                if "login" in wanted:
                    self.login()
                if "health" in wanted:
                    self.health()
                if "admin_users" in wanted:
                    self.admin_users()
                if "security_events" in wanted:
                    self.security_events()
                self.results.rss["after_last"] = rss_bytes(self.servers.pid("gatehouse"))
                time.sleep(RSS_IDLE_SECONDS)  # at rest: what the worker holds between bursts
                self.results.rss["after_all"] = rss_bytes(self.servers.pid("gatehouse"))
                if self.o.scale:  # after the RSS reading, so the default-settings targets read the same run
                    self.scale_phase()
                if self.o.profile:  # last, so the measured scenarios and the RSS are the same without it
                    if "users_me" in wanted:
                        self.profile_users_me()
                    if "refresh" in wanted:
                        self.profile_refresh()
                    if "login" in wanted:
                        self.profile("login", self.login_flood, self.o.login_connections)
            self.facts["load_after"] = os.getloadavg()
            self.facts["elapsed_s"] = time.monotonic() - started
            text = report.render(self.results, self.facts, self.o, self.profiles, self.notes)
            scale_text = report.render_scale(self.results, self.facts, self.o, self.plans_summary) \
                if self.o.scale else None
            report.write(text, self.out, self.results, self.facts, docs=self.o.docs, scale_text=scale_text)
            return 0
        finally:
            self.shutdown()

    def shutdown(self) -> None:
        with contextlib.suppress(Stop):
            self.procs.stop_all()
            if self.db_name:
                try:
                    database.drop_database(self.o.admin_dsn, self.db_name)
                    self.reaper.tell("undb", self.db_name)
                    log(f"dropped database {self.db_name}")
                except Exception as exc:
                    log(f"could not drop database {self.db_name} ({exc!r}); the reaper will try")
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.reaper.tell("undir", self.tmp)
            self.reaper.close()

    # --- servers --------------------------------------------------------------------------------------

    def start_servers(self) -> None:
        database.drop_stale_databases(self.o.admin_dsn)
        self.db_name = database.fresh_name()
        self.reaper.tell("db", self.o.admin_dsn, self.db_name)
        database.create_database(self.o.admin_dsn, self.db_name)
        pg_host = self.o.pg_url.rstrip("/")
        data_dir = self.tmp / "gatehouse-data"
        data_dir.mkdir()
        port = free_port()
        key = data_dir / "signing-key.pem"  # configured, as on Postgres it must be (no development key)
        key.write_bytes(ed25519.Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        # As `gatehouse serve` runs it: the access log on (one JSON line per request on stderr, which goes to a
        # file, logs/gatehouse.log, as a deployment's does) at the default log level.
        env = clean_env(
            GATEHOUSE_DATABASE_URL=f"postgresql+asyncpg://{pg_host}/{self.db_name}",
            GATEHOUSE_ISSUER=f"http://127.0.0.1:{port}",
            GATEHOUSE_DATA_DIR=str(data_dir),
            GATEHOUSE_JWT_PRIVATE_KEY=str(key),
        )
        self.procs.run("gatehouse-migrate", [str(BIN / "gatehouse"), "migrate"], what="gatehouse migrate",
                       limit=120, env=env, cwd=self.tmp)
        self.gatehouse_env = env  # also the CLI's, on the same database (a service client for `introspect`)
        # Exactly what `gatehouse serve` execs after preparing (api/cli.py, api/serve_worker.py): its uvicorn options.
        self.serve("gatehouse", [], port, env, argv=serve_worker.command(uvicorn_options(
            host="127.0.0.1", port=port, workers=1, reload=False, log_level="info", forwarded_allow_ips="127.0.0.1")))
        self.serve("fastapi", ["--app-dir", str(BENCH), "--factory", "baseline_fastapi:create_app"],
                   free_port(), clean_env())
        asyncpg_port = free_port()
        self.serve("asyncpg", ["--app-dir", str(BENCH), "--factory", "baseline_asyncpg:create_app"], asyncpg_port,
                   clean_env(BENCH_DATABASE_URL=f"postgresql://{pg_host}/{self.db_name}",
                             BENCH_ISSUER=f"http://127.0.0.1:{asyncpg_port}"))

    def serve(self, name: str, app_args: list[str], port: int, env: dict[str, str],
              argv: list[str] | None = None) -> None:
        proc = self.servers.serve(name, app_args, port, env, argv)
        rss = self.results.rss[f"{name}_start"] = rss_bytes(proc.pid)
        log(f"{name} answering on 127.0.0.1:{port} (pid {proc.pid}, RSS {fmt_mib(rss)})")

    def pid(self, server: str) -> int:
        return self.servers.pid(server)

    def record(self, scenario: str, role: str, label: str, round_: int, result: dict[str, Any],
               meter: CpuMeter | None, **extra: Any) -> Phase:
        if scenario.endswith(SCALE_SUFFIX):
            label = f"{label} [scale]"
        phase = phase_from_wrk(scenario, role, label, round_, result, meter, **extra)
        self.results.phases.append(phase)
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
            self.results.phases.append(Phase("startup", "subject", "gatehouse serve → /health", trial,
                                             extra={"seconds": elapsed}))
            log(f"  trial {trial}: {elapsed:.2f} s")

    def seed_users(self) -> None:
        prefix = self.prefix = secrets.token_hex(3)
        self.creds = [(f"bench-{prefix}-{i}@example.com", f"bench passphrase {secrets.token_hex(8)}")
                      for i in range(self.o.users)]
        started = time.perf_counter()
        load.register(self.servers.url("gatehouse", ""), self.creds)
        (self.tmp / "credentials.tsv").write_text("".join(f"{e}\t{p}\n" for e, p in self.creds))
        log(f"seeded {len(self.creds)} users over HTTP in {time.perf_counter() - started:.1f} s")

    def login_tokens(self, count: int) -> list[dict[str, Any]]:
        started = time.perf_counter()
        tokens = load.log_in(self.servers.url("gatehouse", ""), self.creds, count)
        log(f"  logged in {count} sessions over HTTP in {time.perf_counter() - started:.1f} s")
        return tokens

    def users_me(self, name: str = "users_me") -> None:
        log(f"{name}: GET /users/me (valid EdDSA token, Postgres) vs baseline (a), bare FastAPI")
        sessions = self.login_tokens(self.o.users)
        tokens = self.tmp / "access_tokens.txt"
        tokens.write_text("".join(t["access_token"] + "\n" for t in sessions))
        if http_status(self.servers.port("gatehouse"), "/users/me", 10, token=sessions[0]["access_token"]) != 200:
            raise BenchError("a seeded access token does not get 200 from GET /users/me")
        self.settle()
        self.against_bare_route(name, ("users_me.lua", "/users/me", "GET /users/me", [str(tokens)]),
                                [str(tokens)])
        if name == "users_me":
            self.results.rss["fastapi"] = rss_bytes(self.pid("fastapi"))
        self.results.rss[name] = rss_bytes(self.pid("gatehouse"))

    def against_bare_route(self, scenario: str, subject: tuple[str, str, str, list[str]],
                           baseline_args: list[str], server: str = "gatehouse") -> None:
        """Warm both up, then `--rounds` rounds of the bare FastAPI route (baseline a) and right after it the
        subject (wrk script, path, label, script args) on `server`, each recorded under `scenario`."""
        script, path, label, args = subject
        baseline = {"connections": self.o.connections, "args": baseline_args}
        measured = {"connections": self.o.connections, "args": args}
        self.wrk.run("users_me.lua", "fastapi", "/users/me", duration=self.o.warmup, **baseline)
        self.wrk.run(script, server, path, duration=self.o.warmup, **measured)
        for round_ in range(1, self.o.rounds + 1):
            result, meter = self.wrk.run("users_me.lua", "fastapi", "/users/me", duration=self.o.duration,
                                         meter_pid=self.pid("fastapi"), **baseline)
            self.record(scenario, "baseline", "bare FastAPI route", round_, result, meter)
            self.settle()
            result, meter = self.wrk.run(script, server, path, duration=self.o.duration,
                                         meter_pid=self.pid(server), **measured)
            self.record(scenario, "subject", label, round_, result, meter)
            self.settle()

    def service_client(self) -> str:
        """A service client made as an operator makes one (`gatehouse clients create --json`): its Basic value."""
        made = subprocess.run([str(BIN / "gatehouse"), "clients", "create", f"bench-{secrets.token_hex(3)}", "--json"],
                              env=self.gatehouse_env, cwd=self.tmp, capture_output=True, text=True, timeout=120,
                              check=False)
        if made.returncode != 0:
            raise BenchError(f"gatehouse clients create failed: {made.stderr.strip()}")
        client = json.loads(made.stdout)
        return base64.b64encode(f"{client['client_id']}:{client['client_secret']}".encode()).decode()

    def introspect(self) -> None:
        log("POST /auth/introspect (an active EdDSA token, Postgres) vs baseline (a), bare FastAPI")
        basic = self.service_client()
        sessions = self.login_tokens(self.o.users)
        tokens = self.tmp / "introspect_tokens.txt"
        tokens.write_text("".join(t["access_token"] + "\n" for t in sessions))
        for session in sessions:  # every token the load cycles through is active now
            answer = httpx.post(self.servers.url("gatehouse", "/auth/introspect"), timeout=10,
                                data={"token": session["access_token"]}, headers={"Authorization": f"Basic {basic}"})
            if answer.status_code != 200 or answer.json().get("active") is not True:
                raise BenchError(f"a seeded access token is not active at /auth/introspect: {answer.status_code}")
        self.settle()
        self.against_bare_route("introspect", ("introspect.lua", "/auth/introspect", "POST /auth/introspect",
                                               [str(tokens), basic]), [str(tokens)])  # the same headers' cost
        self.results.rss["introspect"] = rss_bytes(self.pid("gatehouse"))

    def sibling(self) -> None:
        """Another FastAPI app protected by gatehouse-verify (bench/sibling_app.py), its route behind
        `require()` against the bare route; then the same in strict mode (each token also introspected at
        Gatehouse, answers remembered up to a second), reported beside it."""
        log("sibling app: GET /orders behind gatehouse-verify's require() vs baseline (a), bare FastAPI; "
            "then strict mode")
        client_id, _, secret = base64.b64decode(self.service_client()).decode().partition(":")
        self.serve("sibling", ["--app-dir", str(BENCH), "--factory", "sibling_app:create_app"], free_port(),
                   clean_env(BENCH_ISSUER=self.gatehouse_env["GATEHOUSE_ISSUER"],
                             BENCH_INTROSPECT=f"{client_id}:{secret}"))
        sessions = self.login_tokens(self.o.users)
        tokens = self.tmp / "sibling_tokens.txt"
        tokens.write_text("".join(t["access_token"] + "\n" for t in sessions))
        for path in ("/orders", "/orders/strict"):
            if http_status(self.servers.port("sibling"), path, 10, token=sessions[0]["access_token"]) != 200:
                raise BenchError(f"a seeded access token does not get 200 from the sibling's GET {path}")
        self.settle()
        self.against_bare_route("sibling", ("users_me.lua", "/orders", "sibling GET /orders, require()",
                                            [str(tokens)]), [str(tokens)], server="sibling")
        self.results.rss["sibling"] = rss_bytes(self.pid("sibling"))
        self.against_bare_route("sibling_strict", ("users_me.lua", "/orders/strict",
                                                   "sibling GET /orders/strict, require() + introspection",
                                                   [str(tokens)]), [str(tokens)], server="sibling")
        self.results.rss["sibling_strict"] = rss_bytes(self.pid("sibling"))

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
            tokens += load.baseline_seed(self.servers.url("asyncpg", ""), missing)
        path = self.tmp / f"refresh-{server}-{self.wrk.runs + 1}.txt"
        path.write_text("".join(t + "\n" for t in tokens))
        return path

    def refresh_run(self, server: str, duration: float, meter_pid: int | None) -> tuple[dict[str, Any], CpuMeter]:
        threads = max(1, min(self.o.threads, self.o.connections))
        pool = self.refresh_pool(server)
        self.settle()  # let the logins' notification deliveries finish
        leftover = pool.with_suffix(".left")
        result, meter = self.wrk.run("refresh.lua", server, "/auth/refresh", connections=self.o.connections,
                                     duration=duration, args=[str(pool), str(threads), str(leftover)],
                                     meter_pid=meter_pid)
        self.leftovers[server] = leftover.read_text().split() if leftover.exists() else []
        return result, meter

    def refresh(self, name: str = "refresh") -> None:
        log(f"{name}: POST /auth/refresh (every request a valid rotation, Postgres) vs baseline (b), bare asyncpg "
            "rotation")
        for server in ("asyncpg", "gatehouse"):
            self.refresh_run(server, self.o.warmup, None)
        for round_ in range(1, self.o.rounds + 1):
            result, meter = self.refresh_run("asyncpg", self.o.duration, self.pid("asyncpg"))
            self.record(name, "baseline", "bare asyncpg rotation", round_, result, meter)
            result, meter = self.refresh_run("gatehouse", self.o.duration, self.pid("gatehouse"))
            self.record(name, "subject", "POST /auth/refresh", round_, result, meter)
        if name == "refresh":
            self.results.rss["asyncpg"] = rss_bytes(self.pid("asyncpg"))
        self.results.rss[name] = rss_bytes(self.pid("gatehouse"))

    def login_flood(self, duration: float) -> Running:
        return self.wrk.start("login.lua", "gatehouse", "/auth/token", connections=self.o.login_connections,
                              duration=duration, timeout="30s", args=[str(self.tmp / "credentials.tsv")])

    def login(self, name: str = "login") -> None:
        cores = self.facts["cores"]
        log(f"{name}: POST /auth/token password grant vs baseline (c), the hashing limit ({cores} cores ÷ Argon2id "
            "verify)")
        self.wrk.run("login.lua", "gatehouse", "/auth/token", connections=self.o.login_connections,
                     duration=self.o.warmup, timeout="30s", args=[str(self.tmp / "credentials.tsv")])
        for round_ in range(1, self.o.rounds + 1):
            self.settle()
            verify = argon2_verify(self.o.verifies, cores, self.tmp, clean_env())
            limit = cores / verify["median_s"]
            self.results.phases.append(Phase(name, "baseline", "Argon2id hashing limit" + (
                " [scale]" if name.endswith(SCALE_SUFFIX) else ""), round_, rps=limit,
                                             p50_ms=verify["median_s"] * 1000, p99_ms=verify["p99_s"] * 1000,
                                             extra={"verify": verify, "cores": cores}))
            log(f"  Argon2id verify r{round_}: median {verify['median_s'] * 1000:.1f} ms with {cores} threads "
                f"verifying together ({verify['alone_median_s'] * 1000:.1f} ms alone; t={verify['time_cost']}, "
                f"m={verify['memory_kib']} KiB, p={verify['parallelism']}) → limit {limit:.1f} req/s")
            self.settle()
            result, meter = self.wrk.run("login.lua", "gatehouse", "/auth/token",
                                         connections=self.o.login_connections, duration=self.o.duration,
                                         timeout="30s", args=[str(self.tmp / "credentials.tsv")],
                                         meter_pid=self.pid("gatehouse"))
            self.record(name, "subject", "POST /auth/token (password)", round_, result, meter)
        self.results.rss[name] = rss_bytes(self.pid("gatehouse"))

    def health(self) -> None:
        log(f"GET /health with and without a login flood ({self.o.login_connections} connections on /auth/token)")
        probe = {"connections": self.o.health_connections, "threads": 1, "args": [str(self.o.health_delay_ms)]}
        for round_ in range(1, self.o.rounds + 1):
            self.settle()
            result, meter = self.wrk.run("health.lua", "gatehouse", "/health", duration=self.o.duration,
                                         meter_pid=self.pid("gatehouse"), **probe)
            self.record("health", "baseline", "GET /health, no flood", round_, result, meter)
            self.settle()
            lead = 2.0
            flood = self.login_flood(self.o.duration + 2 * lead)
            try:
                time.sleep(lead)
                result, meter = self.wrk.run("health.lua", "gatehouse", "/health", duration=self.o.duration,
                                             meter_pid=self.pid("gatehouse"), **probe)
                flood_result = self.wrk.finish(flood, self.o.duration + 60)
            finally:
                self.procs.stop(flood[0])
            self.record("health", "subject", "GET /health during login flood", round_, result, meter,
                        flood_rps=flood_result["rps"], flood_non2xx=flood_result["non2xx"],
                        flood_p99_ms=flood_result["p99_us"] / 1000)
        self.results.rss["health"] = rss_bytes(self.pid("gatehouse"))

    def make_admin(self) -> tuple[str, str]:
        """An admin as an operator makes the first one (`gatehouse users create EMAIL --role admin`)."""
        if self.admin is None:
            email, password = f"bench-admin-{self.prefix}@example.com", f"bench passphrase {secrets.token_hex(8)}"
            made = subprocess.run([str(BIN / "gatehouse"), "users", "create", email, "--role", "admin",
                                   "--password-stdin"], input=password + "\n", env=self.gatehouse_env, cwd=self.tmp,
                                  capture_output=True, text=True, timeout=120, check=False)
            if made.returncode != 0:
                raise BenchError(f"gatehouse users create --role admin failed: {made.stderr.strip()}")
            self.admin = (email, password)
        return self.admin

    def admin_users(self, name: str = "admin_users") -> None:
        """The admin search for a piece of an address: the bench's own prefix, which finds its --users accounts
        on the small database and the same ones at scale (the same answer; only the data around it grows)."""
        log(f"{name}: GET /admin/users?email=<a piece of an address> (an admin's token) vs baseline (a), bare FastAPI")
        sessions = load.log_in(self.servers.url("gatehouse", ""), [self.make_admin()], self.o.users)
        tokens = self.tmp / f"{name}_tokens.txt"
        tokens.write_text("".join(t["access_token"] + "\n" for t in sessions))
        path = f"/admin/users?email=bench-{self.prefix}-"
        expected = min(len(self.creds), 50)
        answer = httpx.get(self.servers.url("gatehouse", path), timeout=30,
                           headers={"Authorization": f"Bearer {sessions[0]['access_token']}"})
        if answer.status_code != 200 or len(answer.json().get("users", [])) != expected:
            raise BenchError(f"the admin search does not find the {expected} bench accounts: {answer.status_code} "
                             f"{answer.text[:200]}")
        self.settle()
        self.against_bare_route(name, ("admin_users.lua", path, "GET /admin/users?email=…",
                                       [str(tokens), str(expected)]), [str(tokens)])
        self.results.rss[name] = rss_bytes(self.pid("gatehouse"))

    def security_events(self, name: str = "security_events") -> None:
        log(f"{name}: GET /users/me/security-events (the first page of one's own log) vs baseline (a), bare FastAPI")
        sessions = self.login_tokens(self.o.users)
        tokens = self.tmp / f"{name}_tokens.txt"
        tokens.write_text("".join(t["access_token"] + "\n" for t in sessions))
        answer = httpx.get(self.servers.url("gatehouse", "/users/me/security-events"), timeout=30,
                           headers={"Authorization": f"Bearer {sessions[0]['access_token']}"})
        if answer.status_code != 200 or not answer.json().get("events"):
            raise BenchError(f"GET /users/me/security-events gives no events: {answer.status_code} {answer.text[:200]}")
        self.settle()
        self.against_bare_route(name, ("security_events.lua", "/users/me/security-events",
                                       "GET /users/me/security-events", [str(tokens)]), [str(tokens)])
        self.results.rss[name] = rss_bytes(self.pid("gatehouse"))

    # --- scale ----------------------------------------------------------------------------------------

    def scale_phase(self) -> None:
        """Seed the run's database to production size (bench/scale.py), capture the plans of the hot statements,
        and measure the scale scenarios again, each as `<name>_scale`."""
        assert self.db_name is not None  # start_servers made it
        dsn = f"postgresql://{self.o.pg_url.rstrip('/')}/{self.db_name}"
        sizes = scale.sizes_at(self.o.scale_factor)
        log("scale: seeding " + ", ".join(f"{rows:,} {table}" for table, rows in sizes.items()) + " with SQL")
        seeded = scale.seed(dsn, sizes, scale.password_hash())
        self.facts["scale"] = {"sizes": seeded.sizes, "seconds": seeded.seconds, "table_bytes": seeded.table_bytes}
        log(f"scale: seeded in {seeded.seconds['total']:.0f} s (inserts and indexes {seeded.seconds['insert']:.0f} s, "
            f"VACUUM ANALYZE {seeded.seconds['vacuum']:.0f} s)")
        self.capture_plans(dsn, "seeded database, before the scale scenarios")
        self.settle()
        for scenario in SCALE_SCENARIOS:
            if scenario in self.o.scenarios:
                getattr(self, scenario)(name=f"{scenario}_scale")

    def capture_plans(self, dsn: str, when: str) -> None:
        started = time.perf_counter()
        try:
            found = scale.plans(dsn, self.creds[0][0], f"bench-{self.prefix}-")
        except Exception as exc:  # the plans inform; the measurements do not depend on them
            self.notes.append(f"\nThe plans could not be captured ({exc!r}).")
            log(f"scale: could not capture the plans: {exc!r}")
            return
        header = (f"EXPLAIN (ANALYZE, BUFFERS) of the hot statements, {when}; database {self.db_name}, "
                  f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M UTC}. Each statement is Gatehouse's own "
                  "(src/infrastructure/db/statements.py, compiled as the asyncpg runner compiles it), run twice, the "
                  "second run shown, in a transaction rolled back. Postgres keeps a prepared statement on custom "
                  "plans unless the generic plan's estimated cost is no higher than theirs, so the generic plan is "
                  "the worst case, not what runs.")
        (self.out / "plans.txt").write_text(scale.plans_text(found, header))
        self.plans_summary = found
        log(f"scale: plans of {len(found)} statements in {self.out.relative_to(ROOT)}/plans.txt "
            f"({time.perf_counter() - started:.1f} s)")

    # --- profiles -------------------------------------------------------------------------------------

    def profile(self, name: str, start: Callable[[float], Running], connections: int) -> None:
        summary = profiling.profile(name, start, wrk=self.wrk, pid=self.pid("gatehouse"), connections=connections,
                                    seconds=self.o.profile_seconds, top=self.o.profile_top, settle=self.o.settle)
        if summary:
            self.profiles[name] = summary

    def profile_users_me(self) -> None:
        tokens = self.tmp / "access_tokens_profile.txt"  # new ones: the others may be near expiry
        tokens.write_text("".join(t["access_token"] + "\n" for t in self.login_tokens(self.o.users)))
        self.profile("users-me", lambda d: self.wrk.start(
            "users_me.lua", "gatehouse", "/users/me", connections=self.o.connections, duration=d,
            timeout="5s", args=[str(tokens)]), self.o.connections)

    def profile_refresh(self) -> None:
        threads = max(1, min(self.o.threads, self.o.connections))
        pool = self.refresh_pool("gatehouse")
        self.settle()
        self.profile("refresh", lambda d: self.wrk.start(
            "refresh.lua", "gatehouse", "/auth/refresh", connections=self.o.connections, duration=d,
            timeout="5s", args=[str(pool), str(threads), str(pool.with_suffix(".left"))]), self.o.connections)


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
    parser.add_argument("--scenarios", default=None,
                        help=f"comma-separated subset of {','.join(SCENARIOS)} [all; {','.join(SCALE_ONLY)} only "
                             "with --scale]")
    parser.add_argument("--scale", action="store_true",
                        help="after the scenarios, seed the database with SQL to production size (1M users and "
                             "sessions, 10M refresh tokens, 5M security events, 1M notifications and reset/"
                             "verification tokens), capture the hot statements' plans, and measure "
                             f"{','.join(SCALE_SCENARIOS)} again: the Scale table")
    parser.add_argument("--scale-factor", type=float, default=1.0,
                        help="with --scale: seed this fraction of those sizes (0.01 for a quick try)")
    parser.add_argument("--profile", action="store_true",
                        help="also py-spy the Gatehouse worker under /users/me, /auth/refresh and password-grant "
                             "load, after the measured scenarios (summaries in bench/results/profile-*.txt)")
    parser.add_argument("--profile-seconds", type=float, default=10, help="length of each py-spy recording")
    parser.add_argument("--profile-top", type=int, default=25, help="rows per list in a profile summary")
    parser.add_argument("--docs", action=argparse.BooleanOptionalAction, default=None,
                        help="write docs/PERFORMANCE.md [yes; quick no]")
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG", "postgres@127.0.0.1:5432"),
                        help="user@host:port of the PostgreSQL server (trust auth) [env BENCH_PG]")
    parser.add_argument("--max-minutes", type=float, help="watchdog: stop everything after this [30; scale 60]")
    opts = parser.parse_args(argv)
    quick = opts.quick
    defaults = {"rounds": (3, 1), "duration": (10.0, 2.0), "warmup": (2.0, 1.0), "connections": (50, 10),
                "users": (20, 6), "verifies": (40, 8), "startup_trials": (3, 1), "docs": (True, False)}
    for name, (full, smoke) in defaults.items():
        if getattr(opts, name) is None:
            setattr(opts, name, smoke if quick else full)
    if opts.max_minutes is None:
        opts.max_minutes = 60 if opts.scale else 30
    if opts.scenarios is None:
        opts.scenarios = ",".join(s for s in SCENARIOS if opts.scale or s not in SCALE_ONLY)
    opts.scenarios = [s.strip() for s in opts.scenarios.split(",") if s.strip()]
    unknown = set(opts.scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    if opts.rounds < 1 or opts.duration <= 0 or opts.connections < 1:
        parser.error("--rounds, --duration and --connections must be positive")
    if opts.scale_factor <= 0:
        parser.error("--scale-factor must be positive")
    opts.admin_dsn = f"postgresql://{opts.pg_url.rstrip('/')}/postgres"
    opts.argv = argv
    return opts


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
    sys.exit(main(sys.argv[1:]))
