"""The report: each target judged on the run's results, the markdown of the results, and where it goes
(bench/results/<stamp>/ always; docs/PERFORMANCE.md between the bench markers unless told not to)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.common import DOC, MIB, NA, ROOT, X, fmt, fmt_mib, log
from bench.measure import (
    P99_RATIO,
    RPS_RATIO,
    RSS_IDLE_SECONDS,
    SCALE_QUOTIENT,
    SCALE_SUFFIX,
    STARTUP_S,
    Results,
    median,
)
from bench.scale import Plan
from bench.targets import REPORTED_AFTER, SCALE_TARGETS, TARGETS, Target

BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
# The --scale section: a marker pair of its own, after the main one (a run without --scale leaves it as it was).
SCALE_BEGIN, SCALE_END = "<!-- bench:scale:begin -->", "<!-- bench:scale:end -->"


# ----------------------------------------------------------------------------------------------------------
# verdicts


@dataclass(frozen=True)
class Verdict:
    """One target judged on one run's results."""

    target: Target
    values: tuple[float | None, ...]  # what each bound read, in the target's order
    failed: int  # non-2xx responses and socket errors: any at all and the target is not met

    @property
    def within(self) -> bool:
        return all(bound.holds(value) for bound, value in zip(self.target.bounds, self.values, strict=True))

    @property
    def met(self) -> bool:
        return self.within and not self.failed

    @property
    def text(self) -> str:
        if self.failed:
            return f"**no** ({self.failed} failed requests)"
        return "yes" if self.within else "**no**"


def judge(target: Target, results: Results) -> Verdict:
    values = tuple(bound.metric.read(results, target.scenario) for bound in target.bounds)
    return Verdict(target, values, results.failed(target.scenario))


# ----------------------------------------------------------------------------------------------------------
# the results table


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


def row(results: Results, scenario: str, role: str, label: str, rss: int | None = None) -> Row:
    """Medians over the rounds of one scenario's baseline or subject."""
    phases = results.of(scenario, role)
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


# Each scenario's rows, the last one the row its target's verdict goes in.
RowsOf = Callable[[Results, dict[str, Any]], list[Row]]


def _ratio_rows(scenario: str, label: str, baseline_label: str, baseline_server: str) -> RowsOf:
    """A scenario measured as req/s against its baseline's: the baseline's row, then the scenario's."""

    def rows(results: Results, facts: dict[str, Any]) -> list[Row]:
        subject = row(results, scenario, "subject", label, results.rss.get(scenario))
        subject.ratio = fmt(RPS_RATIO.read(results, scenario), 2, X)
        return [row(results, scenario, "baseline", baseline_label, results.rss.get(baseline_server)), subject]

    return rows


_users_me_rows = _ratio_rows("users_me", "`GET /users/me`, valid EdDSA token, Postgres",
                             "baseline (a): bare FastAPI route", "fastapi")
_introspect_rows = _ratio_rows("introspect", "`POST /auth/introspect`, an active EdDSA token, a service client, "
                               "Postgres", "baseline (a): bare FastAPI route", "fastapi")
_sibling_rows = _ratio_rows("sibling", "sibling FastAPI app: `GET /orders` behind gatehouse-verify's `require()`",
                            "baseline (a): bare FastAPI route", "fastapi")


def _sibling_strict_rows(results: Results, facts: dict[str, Any]) -> list[Row]:
    subject = row(results, "sibling_strict", "subject", "the same in strict mode (`introspect=`, answers "
                  "remembered ≤ 1 s; reported, no target)", results.rss.get("sibling_strict"))
    subject.ratio = fmt(RPS_RATIO.read(results, "sibling_strict"), 2, X)
    return [subject]


_refresh_rows = _ratio_rows("refresh", "`POST /auth/refresh`, every request a valid rotation, Postgres",
                            "baseline (b): bare asyncpg rotation", "asyncpg")


def _login_rows(results: Results, facts: dict[str, Any]) -> list[Row]:
    base = results.of("login", "baseline")
    verify_ms = median([p.p50_ms for p in base])
    alone_ms = median([p.extra["verify"]["alone_median_s"] * 1000 for p in base])
    limit = Row(scenario=f"baseline (c): hashing limit = {facts['cores']} cores ÷ {fmt(verify_ms, 1)} ms Argon2id "
                         f"verify with every core verifying ({fmt(alone_ms, 1)} ms alone; p50/p99: verify time)",
                rps=fmt(median([p.rps for p in base]), 1), p50=fmt(verify_ms, 1, " ms"),
                p99=fmt(median([p.p99_ms for p in base]), 1, " ms"))
    subject = row(results, "login", "subject", "`POST /auth/token` password grant, valid credentials",
                  results.rss.get("login"))
    subject.ratio = fmt(RPS_RATIO.read(results, "login"), 2, X)
    return [limit, subject]


def _health_rows(results: Results, facts: dict[str, Any]) -> list[Row]:
    subject = row(results, "health", "subject", "`GET /health` while a login flood runs", results.rss.get("health"))
    subject.ratio = fmt(P99_RATIO.read(results, "health"), 2, f"{X} p99")
    return [row(results, "health", "baseline", "`GET /health`, no flood"), subject]


def _rss_rows(results: Results, facts: dict[str, Any]) -> list[Row]:
    rss = results.rss
    return [Row(scenario=f"Gatehouse worker RSS after all scenarios, {RSS_IDLE_SECONDS:g} s idle (right after the "
                         f"last scenario: {fmt_mib(rss.get('after_last'))}; right after start: "
                         f"{fmt_mib(rss.get('gatehouse_start'))}; bare FastAPI {fmt_mib(rss.get('fastapi_start'))})",
                rss=fmt_mib(rss["after_all"]))]


def _startup_rows(results: Results, facts: dict[str, Any]) -> list[Row]:
    trials = len(results.of("startup", "subject"))
    return [Row(scenario=f"run command → `/health` answers (`gatehouse serve`, SQLite default, median of {trials})",
                rps=fmt(STARTUP_S.read(results, "startup"), 2, " s"))]


ROWS: dict[str, RowsOf] = {
    "users_me": _users_me_rows, "introspect": _introspect_rows, "sibling": _sibling_rows,
    "sibling_strict": _sibling_strict_rows, "refresh": _refresh_rows, "login": _login_rows,
    "health": _health_rows,
    "rss": _rss_rows, "startup": _startup_rows,
}


def verdicts(results: Results, facts: dict[str, Any]) -> tuple[list[Row], list[Verdict]]:
    """The results table and a verdict per target, for the scenarios that were measured, in TARGETS order."""
    rows: list[Row] = []
    judged: list[Verdict] = []
    for target in TARGETS:
        if not results.measured(target.scenario):
            continue
        scenario_rows = ROWS[target.scenario](results, facts)
        verdict = judge(target, results)
        scenario_rows[-1].target, scenario_rows[-1].met = target.label, verdict.text
        rows += scenario_rows
        judged.append(verdict)
        reported = REPORTED_AFTER.get(target.scenario)
        if reported and results.measured(reported):
            rows += ROWS[reported](results, facts)
    return rows, judged


# ----------------------------------------------------------------------------------------------------------
# markdown


def render(results: Results, facts: dict[str, Any], o: argparse.Namespace, profiles: dict[str, Path],
           notes: list[str]) -> str:
    rows, judged = verdicts(results, facts)
    f = facts
    lines = [
        BEGIN,
        "<!-- Generated by `python3 tasks.py bench` (bench/run.py); edits between these markers are "
        "overwritten. -->",
        "",
        f"## Results ({'quick smoke run, not representative' if o.quick else 'full run'}, {f['date']})",
        "",
        f"{sum(v.met for v in judged)} of {len(judged)} targets met. Medians of {o.rounds} round(s) of "
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
    for p in results.phases:
        if p.scenario == "startup":
            lines.append(f"| {p.label} | {p.round} | | | | | | | | | {p.extra['seconds']:.2f} s |")
            continue
        round_notes = ""
        if "verify" in p.extra:
            v = p.extra["verify"]
            round_notes = (f"{v['count']} verifies in {v['threads']} threads at once, t={v['time_cost']} "
                           f"m={v['memory_kib']} KiB p={v['parallelism']}, min {v['min_s'] * 1000:.1f} ms; "
                           f"alone {v['alone_median_s'] * 1000:.1f} ms")
        elif "flood_rps" in p.extra:
            round_notes = (f"flood {p.extra['flood_rps']:.1f} req/s, p99 {p.extra['flood_p99_ms']:.0f} ms, "
                           f"{p.extra['flood_non2xx']} non-2xx")
        if p.extra.get("starved") or p.extra.get("unparsed"):
            round_notes += f" starved {p.extra['starved']}, unparsed {p.extra['unparsed']}"
        failed = "" if not p.requests else str(p.non2xx + p.socket_errors)
        cpu = per_request = pg_per_request = ""
        if p.server_cpu_s is not None and p.requests:
            main = min(p.extra.get("main_thread_cpu_s") or 0.0, p.server_cpu_s)  # read a tick apart
            cpu = f"{p.server_cpu_s:.2f} s ({main:.2f} + {p.server_cpu_s - main:.2f})"
            per_request = f"{1000 * p.server_cpu_s / p.requests:.2f} ms"
            pg_per_request = f"{1000 * (p.pg_cpu_s or 0.0) / p.requests:.2f} ms"
        lines.append(f"| {p.label} | {p.round} | {fmt(p.rps, 1)} | {fmt(p.p50_ms, 1, ' ms')} | "
                     f"{fmt(p.p99_ms, 1, ' ms')} | {p.requests or ''} | {failed} | {cpu} | {per_request} | "
                     f"{pg_per_request} | {round_notes} |")
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
        "- Servers: baselines `uvicorn --factory … --loop uvloop --http httptools --workers 1 --no-access-log`; "
        "Gatehouse by the command `gatehouse serve` execs (`python -P -m api.serve_worker` with serve's uvicorn "
        "options: one worker, no websocket protocol), its own JSON access log on (stderr to a file), the default log "
        f"level — with a configured EdDSA key, otherwise its defaults: {f['gatehouse_defaults']}",
        f"- Command: `{' '.join(['python3 tasks.py bench', *o.argv])}`",
    ]
    if profiles:
        lines += ["", "Profiles (py-spy, git-ignored): " + ", ".join(
            f"`{p.relative_to(ROOT)}`" for p in profiles.values())]
    lines += [*notes, END]
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------------------------------
# the scale section (--scale)

SCALE_LABELS = {
    "users_me": "`GET /users/me` ÷ bare FastAPI",
    "refresh": "`POST /auth/refresh` ÷ bare asyncpg rotation",
    "login": "`POST /auth/token` password grant ÷ hashing limit",
    "admin_users": "`GET /admin/users?email=<the bench's prefix>` (an admin's token) ÷ bare FastAPI",
    "security_events": "`GET /users/me/security-events` (first page) ÷ bare FastAPI",
}


def _per_request_ms(results: Results, scenario: str) -> float | None:
    """Postgres CPU per request of the subject, median over the rounds, in ms."""
    return median([1000 * p.pg_cpu_s / p.requests for p in results.of(scenario, "subject")
                   if p.pg_cpu_s is not None and p.requests])


def scale_verdicts(results: Results) -> list[Verdict]:
    """A verdict per scale target that was measured; failed requests of both measurements count."""
    judged = []
    for t in SCALE_TARGETS:
        if not results.measured(t.scenario):
            continue
        small = t.scenario.removesuffix(SCALE_SUFFIX)
        values = tuple(bound.metric.read(results, t.scenario) for bound in t.bounds)
        judged.append(Verdict(t, values, results.failed(t.scenario) + results.failed(small)))
    return judged


def render_scale(results: Results, facts: dict[str, Any], o: argparse.Namespace, plans: list[Plan]) -> str:
    judged = scale_verdicts(results)
    seeded = facts.get("scale", {})
    sizes, seconds, table_bytes = seeded.get("sizes", {}), seeded.get("seconds", {}), seeded.get("table_bytes", {})
    lines = [
        SCALE_BEGIN,
        "<!-- Generated by `python3 tasks.py bench --scale` (bench/run.py, bench/scale.py); edits between these "
        "markers are overwritten. -->",
        "",
        f"## Scale ({'quick run, not representative' if o.quick else 'full run'}, {facts['date']}, commit "
        f"{facts['git']})",
        "",
        f"{sum(v.met for v in judged)} of {len(judged)} scale targets met. Each scenario was measured on the small "
        "database (the bench's own accounts and what the run wrote), then again in the same run after the same "
        "database was seeded with SQL to the sizes below; both times interleaved with its baseline (A B A B …), "
        f"{o.rounds} round(s) of {o.duration:g} s. **scale ÷ small** is the ratio to the baseline at scale ÷ the "
        "ratio on the small database (the baselines' own data stays small: they are the ceilings, and what grows "
        "is Gatehouse's). Failed counts both measurements.",
        "",
        "| scenario | small: req/s | small: ratio | scale: req/s | scale: ratio | scale ÷ small | target | met? | "
        "failed | Postgres CPU/req small → scale |",
        "|---|---:|---:|---:|---:|---:|---|---|---:|---:|",
    ]
    for verdict in judged:
        at_scale = verdict.target.scenario
        small = at_scale.removesuffix(SCALE_SUFFIX)
        lines.append(
            f"| {SCALE_LABELS.get(small, small)} | {fmt(median([p.rps for p in results.of(small, 'subject')]), 0)} "
            f"| {fmt(RPS_RATIO.read(results, small), 2, X)} "
            f"| {fmt(median([p.rps for p in results.of(at_scale, 'subject')]), 0)} "
            f"| {fmt(RPS_RATIO.read(results, at_scale), 2, X)} | {fmt(SCALE_QUOTIENT.read(results, at_scale), 2, X)} "
            f"| {verdict.target.label} | {verdict.text} | {verdict.failed} "
            f"| {fmt(_per_request_ms(results, small), 2)} → {fmt(_per_request_ms(results, at_scale), 2, ' ms')} |")
    if sizes:
        total_bytes = sum(table_bytes.values())
        lines += [
            "",
            f"Seeded (bench/scale.py: `INSERT … SELECT … FROM generate_series` on two connections, each table's "
            f"indexes dropped and rebuilt from their definitions, then `VACUUM (ANALYZE)` and `CHECKPOINT`) in "
            f"**{seconds.get('total', 0):.0f} s** (inserts and index builds {seconds.get('insert', 0):.0f} s, "
            f"vacuum and analyze {seconds.get('vacuum', 0):.0f} s, a checkpoint {seconds.get('checkpoint', 0):.0f} s), "
            f"{total_bytes / 1024 ** 3:.1f} GiB with indexes:",
            "",
            "| table | rows | insert | indexes rebuilt | size with indexes |",
            "|---|---:|---:|---:|---:|",
        ]
        lines += [f"| `{table}` | {rows:,} | {seconds.get(f'{table} insert', 0):.1f} s | "
                  f"{seconds.get(f'{table} indexes', 0):.1f} s | {table_bytes.get(table, 0) / MIB:,.0f} MiB |"
                  for table, rows in sizes.items()]
    if plans:
        lines += [
            "",
            "Plans at scale (`EXPLAIN (ANALYZE, BUFFERS)` of Gatehouse's own statements with a real row's "
            "parameters, taken right after seeding; in full in `bench/results/<stamp>/plans.txt`). *custom*: the "
            "parameters bound, as a prepared statement's first executions run; *generic*: forced, the plan Postgres "
            "could switch to, which it does only when its estimated cost is no higher:",
            "",
            "| statement | custom plan | ms | generic plan | ms |",
            "|---|---|---:|---|---:|",
        ]
        lines += [f"| {plan.title} | {Plan.top(plan.custom)} | {fmt(plan.custom_ms, 3)} | {Plan.top(plan.generic)} | "
                  f"{fmt(plan.generic_ms, 3)} |" for plan in plans]
    lines += ["", f"Command: `{' '.join(['python3 tasks.py bench', *o.argv])}`", SCALE_END]
    return "\n".join(lines).replace("|  |", f"| {NA} |") + "\n"


# ----------------------------------------------------------------------------------------------------------
# writing it


def write(text: str, out: Path, results: Results, facts: dict[str, Any], docs: bool,
          scale_text: str | None = None) -> None:
    """report.md and results.json in the run's directory; docs/PERFORMANCE.md too when `docs`."""
    if scale_text:
        text = text + "\n" + scale_text
    (out / "report.md").write_text(text)
    (out / "results.json").write_text(json.dumps(
        {"facts": facts, "phases": [asdict(p) for p in results.phases], "rss": results.rss},
        indent=2, default=str))
    print()
    print(text)
    if docs:
        write_doc(text)
        log(f"wrote {DOC.relative_to(ROOT)} (generated part) and {out.relative_to(ROOT)}/")
    else:
        log(f"wrote {out.relative_to(ROOT)}/ (docs/PERFORMANCE.md untouched: --quick or --no-docs)")


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
    """Replace the generated part of docs/PERFORMANCE.md, keeping what is written around it; a --scale run's
    text also has the scale section, which goes between its own markers (after the main ones if new)."""
    scale_text = None
    if SCALE_BEGIN in generated:
        generated, scale_text = generated.split(SCALE_BEGIN, 1)
        scale_text = SCALE_BEGIN + scale_text.rstrip("\n")
        generated = generated.rstrip("\n") + "\n"
    _write_main(generated)
    if scale_text is None:
        return
    current = DOC.read_text()
    if SCALE_BEGIN in current and SCALE_END in current:
        head, rest = current.split(SCALE_BEGIN, 1)
        DOC.write_text(head + scale_text + rest.split(SCALE_END, 1)[1])
    else:
        head, tail = current.split(END, 1)
        DOC.write_text(head + END + "\n\n" + scale_text + tail)


def _write_main(generated: str) -> None:
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
