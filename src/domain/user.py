"""Users and the value objects around them."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from domain.errors import InvalidEmail

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024
MAX_EMAIL_LENGTH = 320
MAX_FULL_NAME_LENGTH = 200
# What a login accepts, longer than what registration stores: an over-long password is still answered
# like a wrong one (after a dummy verification), so the limit itself tells a guesser nothing.
MAX_LOGIN_EMAIL_LENGTH = 1024
MAX_LOGIN_PASSWORD_LENGTH = 4096


@dataclass(frozen=True, slots=True)
class Email:
    """A normalized email address: trimmed, Unicode NFC, lowercased as a whole.

    Emails are unique case-insensitively, so the normal form is what is stored, compared and
    rate-limited. Syntax (RFC 5322/6531) is checked at the edge by a real validator; this class
    keeps the cheap invariants every address must hold.
    """

    value: str

    def __post_init__(self) -> None:
        v = self.value
        if not v or len(v) > MAX_EMAIL_LENGTH or "@" not in v or v != Email.normalize(v):
            raise InvalidEmail("Not a normalized email address")

    @staticmethod
    def normalize(raw: str) -> str:
        # NFC again after lowercasing: lowercasing can leave combining marks out of canonical order
        # (e.g. U+0130 becomes "i" + U+0307), and the stored form must be NFC and stable.
        return unicodedata.normalize("NFC", unicodedata.normalize("NFC", raw.strip()).lower())

    @classmethod
    def parse(cls, raw: str) -> Email:
        return cls(cls.normalize(raw))

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class PasswordHash:
    value: str = field(repr=False)


@dataclass(slots=True, kw_only=True)
class User:
    id: UUID
    email: Email
    password_hash: PasswordHash = field(repr=False)
    full_name: str | None
    created_at: datetime
    updated_at: datetime
    # Goes up with every change of the password. What was decided by checking a password (a session
    # started, a stronger hash of the same password) is written only while the version is still the
    # one that was read with the hash, so a check that raced a change cannot outlive it.
    credential_version: int = 0

    def rename(self, full_name: str | None, now: datetime) -> None:
        self.full_name = full_name
        self.updated_at = now

    def change_password_hash(self, new_hash: PasswordHash, now: datetime) -> None:
        """A new password: the credentials the old one proved are void."""
        self.password_hash = new_hash
        self.credential_version += 1
        self.updated_at = now

    def rehash(self, new_hash: PasswordHash) -> None:
        """The same password under stronger hashing parameters: the credentials stay what they were."""
        self.password_hash = new_hash
