"""Summarise a py-spy profile recorded with `--format raw --nolineno --full-filenames` (collapsed stacks).

    .venv/bin/python bench/pyspy_summary.py bench/results/profile-refresh.raw [--top 30]

Prints, for the samples in which the profiled process was on a CPU (py-spy leaves idle threads out,
and this also drops threads blocked in threading/queue waits):
time by package (self time of frames grouped by where their code lives: Gatehouse's own layers,
each third-party package, the standard library), the top functions by self time (the frame that was
running), the top Gatehouse functions (src/) by total time (the function was anywhere on the stack;
counted once per sample), and the samples split by the innermost Gatehouse function on the stack and
the package of the code that was running (e.g. "SqlSessionRepository.rotate → asyncpg").
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*)\)$")
# Leaf frames of threads that are blocked, not running. py-spy normally leaves idle threads out, but
# here it reports idle threadpool workers (waiting for work) as active.
_IDLE = {("Condition.wait", "threading.py"), ("Event.wait", "threading.py"), ("Semaphore.acquire", "threading.py"),
         ("Thread._wait_for_tstate_lock", "threading.py"), ("Queue.get", "queue.py"),
         ("EpollSelector.select", "selectors.py"), ("PollSelector.select", "selectors.py"),
         ("_worker", "thread.py")}  # concurrent.futures workers blocked in SimpleQueue.get (C, so no frame)


def split_frame(frame: str) -> tuple[str, str]:
    match = _FRAME.match(frame)
    return (match["func"], match["file"]) if match else (frame, "")


def package_of(path: str) -> str:
    if "/site-packages/" in path:
        top = path.split("/site-packages/", 1)[1].split("/", 1)[0]
        return top.removesuffix(".py")
    for layer in ("domain", "application", "infrastructure", "api"):
        if f"/src/{layer}/" in path:
            return f"gatehouse {layer}"
    if "/bench/" in path:
        return "bench"
    match = re.search(r"/lib/python3\.\d+/([^/]+)", path)
    if match:
        name = match[1].removesuffix(".py")
        return f"stdlib {name}"
    if path.startswith("<"):
        return "stdlib " + path.strip("<>")
    return path or "?"


def short(path: str) -> str:
    for marker in ("/site-packages/", "/src/", "/bench/"):
        if marker in path:
            return path.split(marker, 1)[1]
    match = re.search(r"/lib/python3\.\d+/(.*)$", path)
    return match[1] if match else path


def label(frame: str) -> str:
    func, path = split_frame(frame)
    return f"{func} ({short(path)})" if path else func


def summarize(raw: Path, top: int = 25, title: str = "") -> str:
    self_time: Counter[str] = Counter()
    total_time: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    innermost: Counter[tuple[str, str]] = Counter()
    samples = idle = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [f for f in stack.split(";") if f]
        if not frames:
            continue
        leaf = frames[-1]
        func, path = split_frame(leaf)
        if (func, path.rsplit("/", 1)[-1]) in _IDLE:
            idle += count
            continue
        samples += count
        leaf_package = package_of(path)
        self_time[leaf] += count
        packages[leaf_package] += count
        for frame in set(frames):
            total_time[frame] += count
        own = [f for f in frames if package_of(split_frame(f)[1]).startswith("gatehouse")]
        # the innermost Gatehouse function on the stack, and the package whose code was running
        innermost[(label(own[-1]) if own else "(outside Gatehouse code)", leaf_package)] += count
    if samples == 0:
        return f"{title}\nno samples in {raw}\n"

    def pct(n: int) -> str:
        return f"{100 * n / samples:5.1f}%"

    lines = [title or f"py-spy profile {raw.name}",
             f"{samples} samples on CPU ({idle} samples of threads blocked in a wait were left out)", "",
             "self time by package (where the running code lives):"]
    lines += [f"  {pct(n)}  {name}" for name, n in packages.most_common(top)]
    lines += ["", f"top {top} functions by self time:"]
    lines += [f"  {pct(n)}  {label(f)}" for f, n in self_time.most_common(top)]
    own_total = Counter({f: n for f, n in total_time.items()
                         if package_of(split_frame(f)[1]).startswith("gatehouse")})
    lines += ["", f"top {top} Gatehouse (src/) functions by total time (the function was on the stack):"]
    lines += [f"  {pct(n)}  {label(f)}" for f, n in own_total.most_common(top)]
    lines += ["", f"top {top} (innermost Gatehouse function on the stack, package of the running code):"]
    lines += [f"  {pct(n)}  {where}  →  {package}" for (where, package), n in innermost.most_common(top)]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw", type=Path)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    print(summarize(args.raw, args.top), end="")


if __name__ == "__main__":
    main()
