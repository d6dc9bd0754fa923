"""The benchmark's targets and verdicts on canned results: no servers, no load, no files."""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

import pytest

from bench.common import MIB, NA, X
from bench.measure import IDLE_RSS_MIB, P99_MS, P99_RATIO, RPS_RATIO, STARTUP_S, Phase, Results
from bench.report import ROWS, judge, render, verdicts
from bench.targets import REPORTED_AFTER, TARGETS, Bound, Target, target

FACTS: dict[str, Any] = {
    "date": "2026-01-01 00:00 UTC", "nproc": 2, "cores": 2, "cpu_model": "test CPU", "memory_gib": 4.0,
    "kernel": "6.0", "python": "3.11.0", "versions": {"fastapi": "1.0"}, "wrk": "wrk 4.2.0",
    "postgres": "16.0", "synchronous_commit": "on", "git": "abc1234", "gatehouse_defaults": "db_pool_size=10",
    "load_before": (0.5, 0.5, 0.5), "load_after": (1.0, 1.0, 1.0), "elapsed_s": 60.0,
}


def pair(scenario: str, baseline: dict[str, Any], subject: dict[str, Any], round_: int = 1) -> list[Phase]:
    """One round: the baseline run, then the subject run."""
    common = {"requests": 1000}
    return [Phase(scenario, "baseline", "baseline", round_, **{**common, **baseline}),
            Phase(scenario, "subject", "subject", round_, **{**common, **subject})]


def rps_run(scenario: str, baseline_rps: float | None, subject_rps: float | None, **subject: Any) -> Results:
    return Results(pair(scenario, {"rps": baseline_rps, "p99_ms": 10.0}, {"rps": subject_rps, "p99_ms": 10.0,
                                                                           **subject}))


def startup_run(*seconds: float) -> Results:
    return Results([Phase("startup", "subject", "gatehouse serve → /health", i, extra={"seconds": s})
                    for i, s in enumerate(seconds, 1)])


def text(scenario: str, results: Results) -> str:
    return judge(target(scenario), results).text


# --- the table and its labels -------------------------------------------------------------------------


def test_the_labels_are_the_ones_the_report_has_always_shown() -> None:
    assert {t.scenario: t.label for t in TARGETS} == {
        "users_me": f"≥ 0.55{X} bare FastAPI",
        "introspect": f"≥ 0.4{X} bare FastAPI",
        "sibling": f"≥ 0.5{X} bare FastAPI",
        "refresh": f"≥ 0.8{X} bare asyncpg, p99 ≤ 150 ms",
        "login": f"≥ 0.8{X} hashing limit",
        "health": f"p99 ≤ 4{X} p99 without flood",
        "rss": "≤ 100 MiB",
        "startup": "≤ 2 s",
    }


def test_each_target_reads_the_metric_its_label_names() -> None:
    metrics = {t.scenario: [b.metric for b in t.bounds] for t in TARGETS}
    assert metrics == {"users_me": [RPS_RATIO], "introspect": [RPS_RATIO], "sibling": [RPS_RATIO],
                       "refresh": [RPS_RATIO, P99_MS],
                       "login": [RPS_RATIO], "health": [P99_RATIO], "rss": [IDLE_RSS_MIB], "startup": [STARTUP_S]}


@pytest.mark.parametrize("bound", [b for t in TARGETS for b in t.bounds], ids=lambda b: b.label)
def test_each_label_is_rendered_from_the_bound_it_describes(bound: Bound) -> None:
    assert f"{bound.comparison} {bound.threshold:g}{bound.metric.unit}" in bound.label
    moved = dataclasses.replace(bound, threshold=bound.threshold * 3)
    assert moved.label == bound.label.replace(f" {bound.threshold:g}", f" {bound.threshold * 3:g}", 1)


def test_moving_a_threshold_moves_the_label_and_the_verdict_together() -> None:
    results = rps_run("users_me", 1000.0, 600.0)  # 0.6 times
    stricter = dataclasses.replace(target("users_me"),
                                   bounds=(dataclasses.replace(target("users_me").bounds[0], threshold=0.7),))
    assert judge(target("users_me"), results).met
    assert stricter.label == f"≥ 0.7{X} bare FastAPI"
    assert not judge(stricter, results).met


def test_there_is_one_target_per_scenario_and_a_report_row_for_each() -> None:
    scenarios = [t.scenario for t in TARGETS]
    assert len(scenarios) == len(set(scenarios))
    assert set(ROWS) == set(scenarios) | set(REPORTED_AFTER.values())  # and the rows reported without a target
    assert set(REPORTED_AFTER) <= set(scenarios)


def test_strict_mode_is_shown_after_the_sibling_row_without_a_verdict_of_its_own() -> None:
    results = Results([*pair("sibling", {"rps": 1000.0}, {"rps": 900.0}),
                       *pair("sibling_strict", {"rps": 1000.0}, {"rps": 600.0})])
    rows, judged = verdicts(results, FACTS)
    assert [v.target.scenario for v in judged] == ["sibling"]
    assert [(r.ratio, r.met) for r in rows[1:]] == [(f"0.90{X}", "yes"), (f"0.60{X}", NA)]


# --- verdicts -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("scenario", "baseline_rps", "subject_rps", "expected"), [
    ("users_me", 1000.0, 600.0, "yes"),
    ("users_me", 1000.0, 550.0, "yes"),  # exactly the bound
    ("users_me", 1000.0, 549.0, "**no**"),
    ("login", 100.0, 80.0, "yes"),  # exactly 0.8 of the hashing limit
    ("login", 100.0, 79.9, "**no**"),
    ("refresh", 1000.0, 800.0, "yes"),
    ("refresh", 1000.0, 790.0, "**no**"),
])
def test_throughput_ratio(scenario: str, baseline_rps: float, subject_rps: float, expected: str) -> None:
    assert text(scenario, rps_run(scenario, baseline_rps, subject_rps)) == expected


@pytest.mark.parametrize(("baseline_rps", "subject_rps"), [(None, 500.0), (0.0, 500.0), (1000.0, None)])
def test_a_ratio_that_cannot_be_computed_is_not_met(baseline_rps: float | None, subject_rps: float | None) -> None:
    verdict = judge(target("users_me"), rps_run("users_me", baseline_rps, subject_rps))
    assert verdict.values == (None,)
    assert (verdict.met, verdict.text) == (False, "**no**")


def test_the_ratio_is_the_median_of_the_rounds_ratios() -> None:
    rounds = [(1000.0, 400.0), (1000.0, 600.0), (500.0, 350.0)]  # ratios 0.4, 0.6, 0.7; of the medians: 0.4
    results = Results([p for i, (a, b) in enumerate(rounds, 1)
                       for p in pair("users_me", {"rps": a}, {"rps": b}, i)])
    verdict = judge(target("users_me"), results)
    assert (verdict.values, verdict.met) == ((0.6,), True)


@pytest.mark.parametrize(("p99_ms", "expected"), [(100.0, "yes"), (150.0, "yes"), (150.1, "**no**")])
def test_refresh_needs_the_p99_bound_too(p99_ms: float, expected: str) -> None:
    assert text("refresh", rps_run("refresh", 1000.0, 900.0, p99_ms=p99_ms)) == expected


def test_refresh_is_not_met_on_p99_alone() -> None:
    assert text("refresh", rps_run("refresh", 1000.0, 700.0, p99_ms=50.0)) == "**no**"


@pytest.mark.parametrize(("flood_p99", "expected"), [(20.0, "yes"), (40.0, "yes"), (40.5, "**no**")])
def test_health_p99_ratio(flood_p99: float, expected: str) -> None:  # the probe's p99 without flood is 10 ms
    results = Results(pair("health", {"rps": 350.0, "p99_ms": 10.0}, {"rps": 340.0, "p99_ms": flood_p99}))
    assert text("health", results) == expected


@pytest.mark.parametrize(("rss", "expected"), [(80 * MIB, "yes"), (100 * MIB, "yes"), (100 * MIB + 1, "**no**"),
                                               (None, "**no**")])
def test_idle_rss(rss: int | None, expected: str) -> None:
    assert text("rss", Results(rss={"after_all": rss})) == expected


@pytest.mark.parametrize(("seconds", "expected"), [((1.0, 1.5, 3.0), "yes"), ((2.0,), "yes"),
                                                   ((1.0, 2.5, 3.0), "**no**")])
def test_startup_median(seconds: tuple[float, ...], expected: str) -> None:
    assert text("startup", startup_run(*seconds)) == expected


@pytest.mark.parametrize("failures", [{"non2xx": 3}, {"socket_errors": 3}, {"non2xx": 1, "socket_errors": 2}])
def test_failed_requests_fail_a_target_that_is_otherwise_met(failures: dict[str, int]) -> None:
    verdict = judge(target("users_me"), rps_run("users_me", 1000.0, 900.0, **failures))
    assert verdict.within
    assert (verdict.met, verdict.text) == (False, "**no** (3 failed requests)")


def test_failed_requests_are_named_when_the_bound_is_missed_too() -> None:
    assert text("refresh", rps_run("refresh", 1000.0, 100.0, non2xx=5)) == "**no** (5 failed requests)"


def test_failed_requests_count_over_every_round() -> None:
    results = Results([*pair("login", {"rps": 100.0}, {"rps": 90.0, "non2xx": 1}, 1),
                       *pair("login", {"rps": 100.0}, {"rps": 90.0, "socket_errors": 2}, 2)])
    assert text("login", results) == "**no** (3 failed requests)"


def test_failures_of_the_baseline_do_not_count_against_the_target() -> None:
    results = Results(pair("users_me", {"rps": 1000.0, "non2xx": 7}, {"rps": 900.0}))
    assert text("users_me", results) == "yes"


# --- the results table ----------------------------------------------------------------------------------


def test_only_measured_scenarios_get_rows_and_verdicts_in_table_order() -> None:
    results = Results([*startup_run(1.0).phases, *rps_run("users_me", 1000.0, 400.0).phases],
                      rss={"fastapi": 50 * MIB, "users_me": 90 * MIB})
    rows, judged = verdicts(results, FACTS)
    assert [v.target.scenario for v in judged] == ["users_me", "startup"]
    assert [(r.target, r.met) for r in rows] == [(NA, NA), (f"≥ 0.55{X} bare FastAPI", "**no**"),
                                                 ("≤ 2 s", "yes")]
    assert rows[1].ratio == f"0.40{X}"


def test_rss_is_judged_only_once_it_was_read() -> None:
    _, judged = verdicts(Results(rss={"after_last": 120 * MIB}), FACTS)
    assert judged == []


def test_the_report_counts_the_targets_met() -> None:
    results = Results([*startup_run(3.0).phases, *rps_run("refresh", 1000.0, 900.0).phases],
                      rss={"after_all": 90 * MIB})
    opts = argparse.Namespace(quick=True, rounds=1, duration=2.0, threads=2, connections=10, login_connections=8,
                              health_connections=4, health_delay_ms=10, users=6, argv=["--quick"])
    markdown = render(results, FACTS, opts, {}, [])
    assert "2 of 3 targets met." in markdown
    assert f"| 0.90{X} | ≥ 0.8{X} bare asyncpg, p99 ≤ 150 ms | yes | 0 |" in markdown
    assert "| ≤ 100 MiB | yes |" in markdown
    assert "| ≤ 2 s | **no** |" in markdown


def test_a_target_of_more_bounds_is_met_only_when_all_hold() -> None:
    both = Target("users_me", (Bound(RPS_RATIO, "≥", 0.5), Bound(P99_MS, "≤", 5)))
    assert both.label == f"≥ 0.5{X}, ≤ 5 ms"
    assert not judge(both, rps_run("users_me", 1000.0, 900.0)).met  # p99 10 ms
    assert judge(both, rps_run("users_me", 1000.0, 900.0, p99_ms=5.0)).met
