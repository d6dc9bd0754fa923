"""--profile: py-spy samples the Gatehouse worker under one more load run; bench/pyspy_summary.py sums it up."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

from bench.common import BIN, RESULTS, log
from bench.load import Running, Wrk


def profile(name: str, start: Callable[[float], Running], *, wrk: Wrk, pid: int, connections: int,
            seconds: float, top: int, settle: float) -> Path | None:
    """Record `seconds` of py-spy under the load `start(duration)` makes; the summary's path, if any."""
    py_spy = BIN / "py-spy"
    if not py_spy.exists():
        log(f"profile {name}: skipped, py-spy is not installed (.venv/bin/pip install py-spy)")
        return None
    from bench.pyspy_summary import summarize

    duration = max(2, int(seconds))
    raw = wrk.out / f"profile-{name}.raw"
    time.sleep(settle)
    log(f"profile {name}: py-spy record for {duration} s under load")
    running = start(duration + 4)
    try:
        time.sleep(1.5)  # past the load's ramp-up
        spy = wrk.procs.start(f"py-spy-{name}", [str(py_spy), "record", "--pid", str(pid), "--duration",
                                                 str(duration), "--rate", "100", "--format", "raw", "--nolineno",
                                                 "--full-filenames", "--output", str(raw)])
        try:
            spy.wait(duration + 60)
        finally:
            wrk.procs.stop(spy)
        result = wrk.finish(running, duration + 60)
    finally:
        wrk.procs.stop(running[0])
    if not raw.exists():
        log(f"profile {name}: py-spy wrote nothing; see {wrk.procs.logs / f'py-spy-{name}.log'}")
        return None
    title = (f"py-spy profile of the Gatehouse worker under {name} load ({connections} connections, "
             f"{duration} s at 100 Hz; {result['rps']:,.0f} req/s while profiled, {result['non2xx']} non-2xx)")
    summary = summarize(raw, top=top, title=title)
    for target in (wrk.out / f"profile-{name}.txt", RESULTS / f"profile-{name}.txt"):
        target.write_text(summary)
    shutil.copyfile(raw, RESULTS / f"profile-{name}.raw")
    log(f"profile {name}: summary in {RESULTS / f'profile-{name}.txt'}")
    return RESULTS / f"profile-{name}.txt"
