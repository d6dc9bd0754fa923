"""The password policy shared by registration and password change."""

from __future__ import annotations

from domain.errors import WeakPassword
from domain.ports import CommonPasswords
from domain.user import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH


def check_password_policy(password: str, common: CommonPasswords, field: str = "password") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"Password must be at least {MIN_PASSWORD_LENGTH} characters", field)
    if len(password) > MAX_PASSWORD_LENGTH:
        raise WeakPassword(f"Password must be at most {MAX_PASSWORD_LENGTH} characters", field)
    if common.is_common(password):
        raise WeakPassword("Password is too common; choose one that is not on a list of leaked passwords",
                           field)
