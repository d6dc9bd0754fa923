"""Baseline (c): how long one Argon2id verify takes at Gatehouse's configured parameters.

Reads the defaults of `infrastructure.settings.Settings` (argon2_time_cost, argon2_memory_kib,
argon2_parallelism; the environment is deliberately not consulted) and hashes one password with
argon2-cffi's PasswordHasher exactly as Gatehouse's hasher is built. Then it times `--count` verifies
in one thread with the machine otherwise idle ("alone"), and, with `--threads N`, `--count` verifies in
each of N threads verifying at the same time ("together": what each core does while every core hashes,
which is the situation a login flood creates: the cores share the L3 cache and memory bandwidth, and
each verify touches 19 MiB). It prints JSON; `median_s` is the together median when N > 1.
The bench (bench/measure.py) turns it into the hashing limit: cores ÷ median verify time (requests per second).
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time

from argon2 import PasswordHasher, Type

from infrastructure.settings import Settings

PASSWORD = "correct horse battery staple, benchmarked"


def configured() -> dict[str, int]:
    fields = Settings.model_fields
    return {"time_cost": fields["argon2_time_cost"].default, "memory_kib": fields["argon2_memory_kib"].default,
            "parallelism": fields["argon2_parallelism"].default}


def timed_verifies(hasher: PasswordHasher, stored: str, count: int, threads: int) -> tuple[list[float], float]:
    """Per-verify seconds of `count` verifies in each of `threads` threads started together; wall time."""
    samples: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def run() -> None:
        mine = []
        start.wait()
        for _ in range(count):
            began = time.perf_counter()
            hasher.verify(stored, PASSWORD)
            mine.append(time.perf_counter() - began)
        with lock:
            samples.extend(mine)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    began = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sorted(samples), time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=40, help="verifies to time (per thread)")
    parser.add_argument("--threads", type=int, default=1, help="threads verifying together (the cores)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed verifies first")
    args = parser.parse_args()
    params = configured()
    hasher = PasswordHasher(time_cost=params["time_cost"], memory_cost=params["memory_kib"],
                            parallelism=params["parallelism"], hash_len=32, salt_len=16, type=Type.ID)
    stored = hasher.hash(PASSWORD)
    for _ in range(args.warmup):
        hasher.verify(stored, PASSWORD)
    alone, _ = timed_verifies(hasher, stored, args.count, 1)
    samples, wall = (timed_verifies(hasher, stored, args.count, args.threads) if args.threads > 1
                     else (alone, sum(alone)))
    print(json.dumps({**params, "count": len(samples), "threads": args.threads,
                      "median_s": statistics.median(samples), "min_s": samples[0],
                      "p99_s": samples[min(len(samples) - 1, int(len(samples) * 0.99))], "max_s": samples[-1],
                      "alone_median_s": statistics.median(alone), "verifies_per_s": len(samples) / wall}))


if __name__ == "__main__":
    main()
