"""Argon2id password hashing through argon2-cffi, off the event loop and with bounded concurrency."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher as Argon2
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from domain.ports import PasswordHasher
from domain.user import PasswordHash

T = TypeVar("T")


class Argon2PasswordHasher(PasswordHasher):
    """Hashing runs in worker threads, because one blocking hash would stall every request on the loop.

    The threads are this hasher's own, `concurrency` of them (near the core count), not the shared
    40-thread pool: each hash holds `memory_kib` while it runs, so a login flood queues here instead of
    holding gigabytes, and the memory a hash used stays in the few threads that ever hash (glibc keeps
    freed memory in per-thread arenas: spread over 40 threads it had a worker at 400 MiB).
    """

    def __init__(self, *, time_cost: int, memory_kib: int, parallelism: int, concurrency: int) -> None:
        self._argon2 = Argon2(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism,
                              hash_len=32, salt_len=16, type=Type.ID)
        self._executor = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="argon2",
                                            initializer=_yield_to_the_event_loop)
        # A real hash, verified for unknown accounts so they cost what a real verify costs. Made on
        # first use in a hashing thread: the constructor runs on the event loop (first request).
        self._dummy: str | None = None

    async def hash(self, password: str) -> PasswordHash:
        return PasswordHash(await self._run(self._argon2.hash, password))

    async def verify(self, stored: PasswordHash, password: str) -> bool:
        return await self._run(self._verify, stored.value, password)

    async def verify_dummy(self, password: str) -> None:
        await self._run(self._verify_dummy, password)

    async def _run(self, fn: Callable[..., T], *args: str) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def needs_rehash(self, stored: PasswordHash) -> bool:
        try:
            return self._argon2.check_needs_rehash(stored.value)
        except InvalidHashError:
            return True

    def _verify_dummy(self, password: str) -> bool:
        if self._dummy is None:  # two threads racing here both make a valid dummy: harmless
            self._dummy = self._argon2.hash("gatehouse-dummy-password-for-unknown-accounts")
        return self._verify(self._dummy, password)

    def _verify(self, stored: str, password: str) -> bool:
        try:
            return self._argon2.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False


def _yield_to_the_event_loop() -> None:
    """Run hashing threads at a lower scheduling priority (Linux: per-thread nice) than the event loop,
    so a login flood takes spare CPU for hashing but never delays the loop's other requests; hashes
    still use every idle core."""
    with contextlib.suppress(AttributeError, OSError):  # not Linux, or not permitted: default priority
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
