"""One-time tokens mailed to a user: a password reset, or the proof of an address (verification).

The token itself (≥ 256 bits from a CSPRNG) travels only in the mail; what is stored is its digest,
who it is for, and until when it may be spent. Issuing one of a kind voids the user's earlier ones of
that kind; spending it is one conditional statement, so of two confirms with one token one wins.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from domain.tokens import TokenDigest
from domain.user import Email


class AccountTokenKind(enum.StrEnum):
    PASSWORD_RESET = "password_reset"  # noqa: S105
    EMAIL_VERIFICATION = "email_verification"  # registration and change of address share it


@dataclass(frozen=True, slots=True, kw_only=True)
class RecoveryPolicy:
    reset_ttl: timedelta = timedelta(minutes=30)
    verification_ttl: timedelta = timedelta(hours=24)

    def ttl(self, kind: AccountTokenKind) -> timedelta:
        return self.reset_ttl if kind is AccountTokenKind.PASSWORD_RESET else self.verification_ttl


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountToken:
    digest: TokenDigest
    user_id: UUID
    kind: AccountTokenKind
    email: Email  # the address it was mailed to (verification: the address it proves)
    created_at: datetime
    expires_at: datetime

    @classmethod
    def issue(cls, *, token: str, user_id: UUID, kind: AccountTokenKind, email: Email, now: datetime,
              policy: RecoveryPolicy) -> AccountToken:
        return cls(digest=TokenDigest.of(token), user_id=user_id, kind=kind, email=email, created_at=now,
                   expires_at=now + policy.ttl(kind))
