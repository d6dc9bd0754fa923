"""Password rules shared by the use cases: the policy for a new password, and the rate limit on checks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar
from uuid import UUID

from application.unit_of_work import UnitOfWorkFactory
from domain.errors import InvalidToken, RateLimited, WeakPassword, WrongCurrentPassword
from domain.ports import CommonPasswords, PasswordHasher, RateLimiter
from domain.user import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, User

T = TypeVar("T")


def check_password_policy(password: str, common: CommonPasswords, field: str = "password") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"Password must be at least {MIN_PASSWORD_LENGTH} characters", field)
    if len(password) > MAX_PASSWORD_LENGTH:
        raise WeakPassword(f"Password must be at most {MAX_PASSWORD_LENGTH} characters", field)
    if common.is_common(password):
        raise WeakPassword("Password is too common; choose one that is not on a list of leaked passwords",
                           field)


async def limited_attempt(limiter: RateLimiter, key: str, attempt: Callable[[], Awaitable[T | None]]) -> T | None:
    """One password check counted against `key`: reserved before it is made (so checks in flight count,
    and once the limit is reached every attempt, a correct password too, gets RateLimited); a check that
    succeeds (returns a value) resets the count."""
    retry_after = await limiter.reserve(key)
    if retry_after is not None:
        raise RateLimited(retry_after)
    result = await attempt()
    if result is not None:
        await limiter.reset(key)
    return result


class CurrentPassword:
    """The check of the caller's own current password before a sensitive change (password, address, deleting
    the account): one counter per user for every such check, apart from login's (the contract's)."""

    def __init__(self, uow: UnitOfWorkFactory, hasher: PasswordHasher, limiter: RateLimiter) -> None:
        self._uow = uow
        self._hasher = hasher
        self._limiter = limiter

    async def check(self, user_id: UUID, password: str) -> User:
        """The account, if `password` is its password; else WrongCurrentPassword (RateLimited once limited)."""
        async with self._uow(autocommit=True) as uow:
            user = await uow.users.get(user_id)
        if user is None:
            raise InvalidToken("The account of this token no longer exists")
        if await limited_attempt(self._limiter, str(user.id), lambda: self._matches(user, password)) is None:
            raise WrongCurrentPassword("The current password is wrong")
        return user

    async def _matches(self, user: User, password: str) -> User | None:
        return user if await self._hasher.verify(user.password_hash, password) else None
