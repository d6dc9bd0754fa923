"""Password rules shared by the use cases: the policy for a new password, and the rate limit on checks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from domain.errors import RateLimited, WeakPassword
from domain.ports import CommonPasswords, RateLimiter
from domain.user import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH

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
