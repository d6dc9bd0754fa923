"""Common-password rejection from zxcvbn's list of the 30,000 most common leaked passwords (Xato corpus)."""

from __future__ import annotations

import ast
import importlib.util
import logging
from pathlib import Path

from domain.ports import CommonPasswords

log = logging.getLogger("gatehouse.passwords")
_MARKER = '"passwords": '
_SPLIT = '.split(",")'


class ZxcvbnCommonPasswords(CommonPasswords):
    """Kept as one lower-cased ",a,b,…," string (~0.25 MiB; a set of the 30,000 strings took ~4.4 MiB of
    every worker for good). A lookup is one substring search, tens of microseconds: it runs only at
    registration and password change, next to an Argon2id hash that takes milliseconds."""

    def __init__(self) -> None:
        self._joined: str | None = None

    def is_common(self, password: str) -> bool:
        if "," in password:  # no listed password has one; and it would match across two entries
            return False
        if self._joined is None:  # loaded on first use: keeps start-up fast
            self._joined = f",{','.join(load_password_list()).lower()},"
        return f",{password.lower()}," in self._joined


def load_password_list() -> list[str]:
    """zxcvbn's password list, read from its data module without importing it.

    Importing `zxcvbn.frequency_lists` builds all of its word lists (English words, names, surnames …:
    ~16 MiB that a process never gives back); this one list is ~4 MiB. The module is generated data of
    the form `"passwords": "a,b,…".split(",")`; if a zxcvbn release changes that, the import is used.
    """
    try:
        spec = importlib.util.find_spec("zxcvbn")  # finds the package without importing it
        if spec is None or spec.origin is None:
            raise LookupError("zxcvbn is not installed")
        text = (Path(spec.origin).parent / "frequency_lists.py").read_text(encoding="utf-8")
        start = text.index(_MARKER) + len(_MARKER)
        literal = ast.literal_eval(text[start:text.index(_SPLIT, start)])
        if not isinstance(literal, str):
            raise TypeError("unexpected layout")
        return literal.split(",")
    except (OSError, LookupError, ValueError, TypeError, SyntaxError) as exc:
        log.info("reading zxcvbn's password list directly failed (%s): importing it", type(exc).__name__)
        from zxcvbn.frequency_lists import FREQUENCY_LISTS

        return list(FREQUENCY_LISTS["passwords"])
