"""Baseline (c): how long one Argon2id verify takes at Gatehouse's configured parameters.

Reads the defaults of `infrastructure.settings.Settings` (argon2_time_cost, argon2_memory_kib,
argon2_parallelism; the environment is deliberately not consulted), hashes one password with
argon2-cffi's PasswordHasher exactly as Gatehouse's hasher is built, then verifies it `--count`
times in this one thread and prints JSON with the median (and spread) in seconds.
bench/run.py turns it into the hashing limit: cores ÷ median verify time (requests per second).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from argon2 import PasswordHasher, Type

from infrastructure.settings import Settings


def configured() -> dict[str, int]:
    fields = Settings.model_fields
    return {"time_cost": fields["argon2_time_cost"].default, "memory_kib": fields["argon2_memory_kib"].default,
            "parallelism": fields["argon2_parallelism"].default}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=40, help="verifies to time")
    parser.add_argument("--warmup", type=int, default=2, help="untimed verifies first")
    args = parser.parse_args()
    params = configured()
    hasher = PasswordHasher(time_cost=params["time_cost"], memory_cost=params["memory_kib"],
                            parallelism=params["parallelism"], hash_len=32, salt_len=16, type=Type.ID)
    password = "correct horse battery staple, benchmarked"
    stored = hasher.hash(password)
    for _ in range(args.warmup):
        hasher.verify(stored, password)
    samples = []
    for _ in range(args.count):
        started = time.perf_counter()
        hasher.verify(stored, password)
        samples.append(time.perf_counter() - started)
    samples.sort()
    print(json.dumps({**params, "count": len(samples), "median_s": statistics.median(samples),
                      "min_s": samples[0], "p99_s": samples[min(len(samples) - 1, int(len(samples) * 0.99))],
                      "max_s": samples[-1]}))


if __name__ == "__main__":
    main()
