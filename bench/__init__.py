"""Gatehouse benchmark suite: `python3 tasks.py bench` runs `python -m bench.run` (see bench/README.md).

One module per job: processes (process groups, servers), database (the fresh Postgres database),
load (wrk and seeding over HTTP), measure (CPU, RSS, phases, ratios), targets (the one table of
targets), report (verdicts, markdown, docs/PERFORMANCE.md), facts (machine and software), profiling
(py-spy), run (the scenarios in order, the command line). The other scripts here run as processes of
their own: reaper.py, argon2_verify.py, the baseline apps, and pyspy_summary.py.
"""
