"""Argon2id password hashing through argon2-cffi, off the event loop and with bounded concurrency."""

from __future__ import annotations

import anyio
from argon2 import PasswordHasher as Argon2
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from domain.ports import PasswordHasher
from domain.user import PasswordHash


class Argon2PasswordHasher(PasswordHasher):
    """Each hash holds `memory_kib` of memory while it runs, so at most `concurrency` run at once
    (near the core count): a login flood queues here instead of holding gigabytes in the threadpool.
    The work runs in worker threads because one blocking hash would stall every request on the loop.
    """

    def __init__(self, *, time_cost: int, memory_kib: int, parallelism: int, concurrency: int) -> None:
        self._argon2 = Argon2(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism,
                              hash_len=32, salt_len=16, type=Type.ID)
        self._limiter = anyio.CapacityLimiter(concurrency)
        # A real hash of a random password: verifying against it costs what a real verify costs.
        self._dummy = self._argon2.hash("gatehouse-dummy-password-for-unknown-accounts")

    async def hash(self, password: str) -> PasswordHash:
        value = await anyio.to_thread.run_sync(self._argon2.hash, password, limiter=self._limiter)
        return PasswordHash(value)

    async def verify(self, stored: PasswordHash, password: str) -> bool:
        return await anyio.to_thread.run_sync(self._verify, stored.value, password, limiter=self._limiter)

    async def verify_dummy(self, password: str) -> None:
        await anyio.to_thread.run_sync(self._verify, self._dummy, password, limiter=self._limiter)

    def needs_rehash(self, stored: PasswordHash) -> bool:
        try:
            return self._argon2.check_needs_rehash(stored.value)
        except InvalidHashError:
            return True

    def _verify(self, stored: str, password: str) -> bool:
        try:
            return self._argon2.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
