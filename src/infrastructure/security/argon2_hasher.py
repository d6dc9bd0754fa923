"""Argon2id password hashing through argon2-cffi, off the event loop and with bounded concurrency.

Why it is built this way: docs/adr/0005-argon2-threads.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher as Argon2
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from domain.ports import PasswordHasher
from domain.user import PasswordHash
from infrastructure.utils.glibc_heap import glibc_heap

T = TypeVar("T")
IDLE_SECONDS_BEFORE_RELEASE = 2.0


class Argon2PasswordHasher(PasswordHasher):
    """Hashing runs in worker threads, because one blocking hash would stall every request on the loop.

    The threads are this hasher's own, `concurrency` of them (near the core count), not the shared
    40-thread pool: each hash holds `memory_kib` while it runs, so a login flood queues here instead of
    holding gigabytes, and the memory a hash used stays in the few threads that ever hash (glibc keeps
    freed memory in per-thread arenas: spread over 40 threads it had a worker at 400 MiB).

    glibc keeps each thread's `memory_kib` buffer for the next hash (allocating it afresh from the
    kernel every time made each verify ~50 % slower). Once no hash has run for
    IDLE_SECONDS_BEFORE_RELEASE, the hashing threads hand their buffers back (utils/glibc_heap.py): a
    worker that served a login burst returns to its resting size, and only the first hashes after a
    pause pay for fresh pages.
    """

    def __init__(self, *, time_cost: int, memory_kib: int, parallelism: int, concurrency: int,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 on_hash: Callable[[float], None] | None = None) -> None:
        self._on_hash = on_hash  # told how long each hash or verify took, in its thread (metrics)
        self._argon2 = Argon2(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism,
                              hash_len=32, salt_len=16, type=Type.ID)
        self._sleep = sleep
        # What a verify at the current parameters takes here (moving average, seconds; None: not yet seen).
        self._current_cost: float | None = None
        self._executor = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="argon2",
                                            initializer=self._thread_started)
        self._threads = 0
        self._threads_lock = threading.Lock()
        # A real hash, verified for unknown accounts so they cost what a real verify costs. Made on
        # first use in a hashing thread: the constructor runs on the event loop (first request).
        self._dummy: str | None = None
        self._running = 0
        self._release: asyncio.TimerHandle | None = None

    async def hash(self, password: str) -> PasswordHash:
        return PasswordHash(await self._run(self._argon2.hash, password))

    async def verify(self, stored: PasswordHash, password: str) -> bool:
        if not self.needs_rehash(stored):
            matches, _ = await self._run(self._timed_verify, stored.value, password)
            return matches
        # Hashed under other parameters (the cost was raised since): such a verify is quicker than one
        # at today's cost, which is what an unknown address's dummy verify costs, so its timing would tell
        # a dormant account from no account. Padded, with the hashing thread freed, to today's cost.
        if self._current_cost is None:
            await self._run(self._timed_verify, None, password)  # learn today's cost once
        matches, elapsed = await self._run(self._timed_verify, stored.value, password)
        if self._current_cost is not None and elapsed < self._current_cost:
            await self._sleep(self._current_cost - elapsed)
        return matches

    async def verify_dummy(self, password: str) -> None:
        await self._run(self._timed_verify, None, password)

    async def _run(self, fn: Callable[..., T], *args: str | None) -> T:
        loop = asyncio.get_running_loop()
        self._running += 1
        if self._release is not None:
            self._release.cancel()
            self._release = None
        try:
            if self._on_hash is None:
                return await loop.run_in_executor(self._executor, fn, *args)
            return await loop.run_in_executor(self._executor, self._observed, fn, *args)
        finally:
            self._running -= 1
            if self._running == 0 and glibc_heap is not None:
                self._release = loop.call_later(IDLE_SECONDS_BEFORE_RELEASE, self._release_buffers)

    def _observed(self, fn: Callable[..., T], *args: str | None) -> T:
        """`fn`, telling `on_hash` how long it took (only used when `on_hash` is set)."""
        started = time.perf_counter()
        try:
            return fn(*args)
        finally:
            self._on_hash(time.perf_counter() - started)  # type: ignore[misc]

    def _release_buffers(self) -> None:
        self._release = None
        if self._running == 0 and glibc_heap is not None:
            glibc_heap.shrink_arenas(self._executor, self._threads)

    def _thread_started(self) -> None:
        with self._threads_lock:
            self._threads += 1
        _yield_to_the_event_loop()

    def needs_rehash(self, stored: PasswordHash) -> bool:
        try:
            return self._argon2.check_needs_rehash(stored.value)
        except InvalidHashError:
            return True

    def _timed_verify(self, stored: str | None, password: str) -> tuple[bool, float]:
        """Verify against `stored` (None: the dummy, at today's parameters); how long it took. Verifies at
        today's parameters keep `_current_cost` up to date."""
        if stored is None:
            if self._dummy is None:  # two threads racing here both make a valid dummy: harmless
                self._dummy = self._argon2.hash("gatehouse-dummy-password-for-unknown-accounts")
            stored = self._dummy
        started = time.perf_counter()
        matches: bool
        try:
            matches = self._argon2.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            matches = False
        elapsed = time.perf_counter() - started
        if stored is self._dummy or not self.needs_rehash(PasswordHash(stored)):
            previous = self._current_cost
            self._current_cost = elapsed if previous is None else 0.8 * previous + 0.2 * elapsed
        return matches, elapsed


def _yield_to_the_event_loop() -> None:
    """Run hashing threads at a lower scheduling priority (Linux: per-thread nice) than the event loop,
    so a login flood takes spare CPU for hashing but never delays the loop's other requests; hashes
    still use every idle core."""
    with contextlib.suppress(AttributeError, OSError):  # not Linux, or not permitted: default priority
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
