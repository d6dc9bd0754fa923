"""What a run measures: CPU time and memory from /proc, one Phase per load run, and the metrics the
targets read from them (medians over rounds, medians of per-round paired ratios)."""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import BENCH, MIB, PYTHON, BenchError, X

CLK_TCK = os.sysconf("SC_CLK_TCK")
RSS_IDLE_SECONDS = 5.0  # the worker's RSS "after all scenarios" is read after this much idle time


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


def argon2_verify(count: int, threads: int, cwd: Path, env: dict[str, str]) -> dict[str, Any]:
    """Baseline (c)'s verify times from bench/argon2_verify.py, in a process of its own."""
    done = subprocess.run([PYTHON, str(BENCH / "argon2_verify.py"), "--count", str(count), "--threads", str(threads)],
                          capture_output=True, text=True, timeout=600, cwd=cwd, env=env, check=False)
    if done.returncode != 0:
        raise BenchError(f"bench/argon2_verify.py failed: {done.stderr.strip()[-500:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


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


def phase_from_wrk(scenario: str, role: str, label: str, round_: int, result: dict[str, Any],
                   meter: CpuMeter | None, **extra: Any) -> Phase:
    """A Phase from one wrk run's BENCH_JSON summary and the CPU it cost."""
    errors = result["errors"]
    return Phase(
        scenario=scenario, role=role, label=label, round=round_, rps=result["rps"],
        p50_ms=result["p50_us"] / 1000, p99_ms=result["p99_us"] / 1000, requests=result["requests"],
        non2xx=result["non2xx"], socket_errors=errors["connect"] + errors["read"] + errors["write"]
        + errors["timeout"],
        server_cpu_s=meter.server if meter else None, pg_cpu_s=meter.postgres if meter else None,
        extra={"starved": result.get("starved", 0), "unparsed": result.get("unparsed", 0),
               "main_thread_cpu_s": meter.main_thread if meter else None, **extra})


def median(values: list[float | None] | list[float]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def rps_ratio(baseline: Phase, subject: Phase) -> float | None:
    return subject.rps / baseline.rps if baseline.rps and subject.rps else None


def p99_ratio(baseline: Phase, subject: Phase) -> float | None:
    return subject.p99_ms / baseline.p99_ms if baseline.p99_ms and subject.p99_ms else None


@dataclass
class Results:
    """Everything one run measured: a Phase per round and role, and RSS readings by moment."""

    phases: list[Phase] = field(default_factory=list)
    rss: dict[str, int | None] = field(default_factory=dict)

    def of(self, scenario: str, role: str) -> list[Phase]:
        return [p for p in self.phases if p.scenario == scenario and p.role == role]

    def paired(self, scenario: str, ratio: Callable[[Phase, Phase], float | None]) -> float | None:
        """The median of the per-round ratios: round i's baseline against round i's subject."""
        pairs = zip(self.of(scenario, "baseline"), self.of(scenario, "subject"), strict=False)
        return median([r for a, b in pairs if (r := ratio(a, b)) is not None])

    def failed(self, scenario: str) -> int:
        """Non-2xx responses and socket errors of the measured runs (none for start-up and RSS)."""
        return sum(p.non2xx + p.socket_errors for p in self.of(scenario, "subject"))

    def measured(self, scenario: str) -> bool:
        if scenario == "rss":
            return "after_all" in self.rss
        return bool(self.of(scenario, "subject"))


# ----------------------------------------------------------------------------------------------------------
# metrics: the numbers targets are set on


@dataclass(frozen=True)
class Metric:
    """One number a run's results give for a scenario; None when it was not measured."""

    name: str
    unit: str  # as the label shows it after the threshold
    read: Callable[[Results, str], float | None]


def _rps_ratio(results: Results, scenario: str) -> float | None:
    return results.paired(scenario, rps_ratio)


def _p99_ratio(results: Results, scenario: str) -> float | None:
    return results.paired(scenario, p99_ratio)


def _p99_ms(results: Results, scenario: str) -> float | None:
    return median([p.p99_ms for p in results.of(scenario, "subject")])


def _idle_rss_mib(results: Results, _scenario: str) -> float | None:
    rss = results.rss.get("after_all")
    return None if rss is None else rss / MIB


def _startup_s(results: Results, scenario: str) -> float | None:
    return median([p.extra["seconds"] for p in results.of(scenario, "subject")])


SCALE_SUFFIX = "_scale"  # a scenario measured again on the seeded database (--scale) is `<scenario>_scale`


def _scale_quotient(results: Results, scenario: str) -> float | None:
    """The ratio at scale ÷ the same scenario's ratio on the small database, both measured in the run."""
    at_scale, small = _rps_ratio(results, scenario), _rps_ratio(results, scenario.removesuffix(SCALE_SUFFIX))
    return at_scale / small if at_scale is not None and small else None


RPS_RATIO = Metric("req/s ÷ baseline req/s, median of the rounds' ratios", X, _rps_ratio)
SCALE_QUOTIENT = Metric("the ratio at scale ÷ the ratio on the small database", X, _scale_quotient)
P99_RATIO = Metric("p99 ÷ baseline p99, median of the rounds' ratios", X, _p99_ratio)
P99_MS = Metric("median p99 latency", " ms", _p99_ms)
IDLE_RSS_MIB = Metric(f"Gatehouse worker RSS after all scenarios and {RSS_IDLE_SECONDS:g} s idle", " MiB",
                      _idle_rss_mib)
STARTUP_S = Metric("median seconds from the run command until /health answers", " s", _startup_s)
