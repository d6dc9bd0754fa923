"""Retention: how long records that no rule needs any more are kept, and the cut-offs that follow.

What each kind lets go of, as of its cut-off (the SQL of each is one statement, infrastructure/db/
statements.py, "retention"):
- refresh-token history: a spent refresh token whose successor was issued before the cut-off, never a
  session's live token. Reuse detection needs a spent token for as long as its session can live: the
  service's period is the absolute session lifetime (settings.py), so any spent token of a session that
  may still be live is remembered, and presenting it is reuse (the contract's rule). A session's history is
  so bounded by its lifetime: at most one row per refresh in it, plus its live token (README, "Retention");
- sessions: revoked, or past their absolute expiry, before the cut-off (with what is left of their token
  history). A session that ended by idleness goes once its absolute expiry is that old too;
- notifications: delivered, failed for good or withheld, created before the cut-off (queued ones never);
- reset and verification tokens: expired before the cut-off, spent or not (a spent one is refused either way);
- security events: recorded before the cut-off (a longer period: they are the user's history).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta

MIN_TOKEN_HISTORY = timedelta(hours=1)  # longer than any grace window (at most 5 min), so retries still converge


class Purgeable(enum.StrEnum):
    """In the order a retention run takes them: token history before sessions, so that deleting a session
    cascades to one or two history rows, not to thousands."""

    TOKEN_HISTORY = "refresh_token_history"  # noqa: S105 - a name, not a secret
    SESSIONS = "sessions"
    NOTIFICATIONS = "notifications"
    ACCOUNT_TOKENS = "account_tokens"
    SECURITY_EVENTS = "security_events"


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    periods: dict[Purgeable, timedelta] = field(default_factory=lambda: {
        Purgeable.TOKEN_HISTORY: timedelta(days=30),  # the session lifetime's default
        Purgeable.SESSIONS: timedelta(days=30),
        Purgeable.NOTIFICATIONS: timedelta(days=30),
        Purgeable.ACCOUNT_TOKENS: timedelta(days=1),
        Purgeable.SECURITY_EVENTS: timedelta(days=365),
    })
    batch_size: int = 1000  # rows per delete, each its own short transaction

    def __post_init__(self) -> None:
        if set(self.periods) != set(Purgeable):
            raise ValueError("a retention period is needed for each kind of record")
        if any(period <= timedelta(0) for period in self.periods.values()):
            raise ValueError("retention periods must be positive")
        if self.periods[Purgeable.TOKEN_HISTORY] < MIN_TOKEN_HISTORY:
            raise ValueError("the refresh-token history period must be at least an hour")
        if self.batch_size < 1:
            raise ValueError("the retention batch size must be at least 1")

    def cutoffs(self, now: datetime) -> list[tuple[Purgeable, datetime]]:
        """Each kind, in purge order, with the time before which its records go."""
        return [(kind, now - self.periods[kind]) for kind in Purgeable]
