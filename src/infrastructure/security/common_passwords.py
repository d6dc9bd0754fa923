"""Common-password rejection from zxcvbn's list of the 30,000 most common leaked passwords (Xato corpus)."""

from __future__ import annotations

from domain.ports import CommonPasswords


class ZxcvbnCommonPasswords(CommonPasswords):
    def __init__(self) -> None:
        self._passwords: frozenset[str] | None = None

    def is_common(self, password: str) -> bool:
        if self._passwords is None:  # loaded on first use: keeps start-up fast
            from zxcvbn.frequency_lists import FREQUENCY_LISTS

            self._passwords = frozenset(p.lower() for p in FREQUENCY_LISTS["passwords"])
        return password.lower() in self._passwords
