"""Sessions: one refresh-token family each, with rotation, reuse detection and expiry rules."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from domain.tokens import TokenDigest

MAX_USER_AGENT_LENGTH = 512  # longer User-Agent headers are cut to this before they are stored
MAX_IP_LENGTH = 64


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionPolicy:
    absolute_lifetime: timedelta = timedelta(days=30)
    idle_timeout: timedelta = timedelta(days=7)
    refresh_grace: timedelta = timedelta(0)
    access_token_ttl: timedelta = timedelta(minutes=15)
    # Live sessions a user may have: a login beyond this ends the least recently used ones, so logins
    # (each a session) cannot pile up without bound for one account.
    max_live_sessions: int = 100

    def __post_init__(self) -> None:
        if self.absolute_lifetime <= timedelta(0) or self.idle_timeout <= timedelta(0):
            raise ValueError("session lifetimes must be positive")
        if self.max_live_sessions < 1:
            raise ValueError("a user must be allowed at least one session")
        if self.access_token_ttl <= timedelta(0) or self.refresh_grace < timedelta(0):
            raise ValueError("token lifetimes must be positive and the grace window not negative")

    def idle_cutoff(self, now: datetime) -> datetime:
        """Sessions last used at or before this instant have expired for idleness."""
        return now - self.idle_timeout

    def access_token_expiry(self, now: datetime, session_expires_at: datetime) -> datetime:
        """An access token never outlives the session that minted it."""
        return min(now + self.access_token_ttl, session_expires_at)


class Presented(enum.Enum):
    """What a refresh token that could not be spent turned out to be, once its session is known."""

    CURRENT = "current"  # still the live token: a concurrent change won the race; refuse, end nothing
    GRACE_RETRY = "grace_retry"  # the token just rotated, retried inside the grace window: same successor again
    OTHER_SUCCESSOR = "other_successor"  # the token just rotated, but the session's token is not the
    # successor it derives (the successor key changed): refuse, end nothing
    REUSED = "reused"  # a spent token: the family is compromised, revoke the session
    INACTIVE = "inactive"  # the session is already revoked or expired


class RevocationReason(enum.StrEnum):
    LOGOUT = "logout"
    LOGOUT_ALL = "logout_all"
    ENDED_BY_USER = "ended_by_user"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105
    REFRESH_TOKEN_REUSE = "refresh_token_reuse"  # noqa: S105
    PASSWORD_RESET = "password_reset"  # noqa: S105
    ACCOUNT_DELETED = "account_deleted"
    ACCOUNT_DISABLED = "account_disabled"
    ENDED_BY_ADMIN = "ended_by_admin"
    SESSION_LIMIT = "session_limit"  # the least recently used, ended by a login beyond max_live_sessions


# The refresh tokens of a session held in browser cookies start with this (no base64url token has a dot), so
# the browser grace window (tabs sharing one cookie) applies to them alone: a bearer client's just-rotated token,
# stolen and presented at the browser endpoints, is judged by the bearer rules, and cannot have the mark added
# (its digest would not match).
BROWSER_TOKEN_MARK = "b."  # noqa: S105 - a marker, not a secret


def is_browser_token(token: str) -> bool:
    return token.startswith(BROWSER_TOKEN_MARK)


def policy_for(token: str, policy: SessionPolicy, browser_policy: SessionPolicy) -> SessionPolicy:
    """The rules a presented refresh token is judged by at the browser endpoints: the browser window for a
    browser session's token, the service's own rules for any other."""
    return browser_policy if is_browser_token(token) else policy


@dataclass(slots=True, kw_only=True)
class Session:
    id: UUID
    user_id: UUID
    created_at: datetime
    last_used_at: datetime
    absolute_expires_at: datetime
    current_token: TokenDigest
    previous_token: TokenDigest | None = None
    rotated_at: datetime | None = None
    revoked_at: datetime | None = None
    revoked_reason: str | None = None
    user_agent: str | None = None
    ip: str | None = None

    @classmethod
    def start(
        cls,
        *,
        id: UUID,
        user_id: UUID,
        token: TokenDigest,
        now: datetime,
        policy: SessionPolicy,
        user_agent: str | None,
        ip: str | None,
    ) -> Session:
        return cls(
            id=id,
            user_id=user_id,
            created_at=now,
            last_used_at=now,
            absolute_expires_at=now + policy.absolute_lifetime,
            current_token=token,
            user_agent=user_agent,
            ip=ip,
        )

    def expires_at(self, policy: SessionPolicy) -> datetime:
        """The earlier of the absolute expiry and the idle expiry."""
        return min(self.absolute_expires_at, self.last_used_at + policy.idle_timeout)

    def is_active(self, now: datetime, policy: SessionPolicy) -> bool:
        return self.revoked_at is None and now < self.expires_at(policy)

    def answers_to(self, presented: TokenDigest, now: datetime, policy: SessionPolicy) -> bool:
        """Whether `presented` stands for this session now: the session is active and the token is its current
        one, or the one just rotated, still inside the grace window (a tab that has not seen the successor)."""
        if not self.is_active(now, policy):
            return False
        return presented.matches(self.current_token) or self._just_rotated(presented, now, policy)

    def _just_rotated(self, presented: TokenDigest, now: datetime, policy: SessionPolicy) -> bool:
        """`presented` is the token this session rotated last, and that was inside the grace window."""
        return (
            policy.refresh_grace > timedelta(0)
            and self.previous_token is not None
            and self.rotated_at is not None
            and presented.matches(self.previous_token)
            and now - self.rotated_at <= policy.refresh_grace
        )

    def judge(self, presented: TokenDigest, successor: TokenDigest, now: datetime,
              policy: SessionPolicy) -> Presented:
        """Classify a refresh token of this session that could not be spent; `successor` is the token
        that `presented` derives (the same again for a retry of the token just rotated)."""
        if not self.is_active(now, policy):
            return Presented.INACTIVE
        if presented.matches(self.current_token):
            return Presented.CURRENT
        if self._just_rotated(presented, now, policy):
            return Presented.GRACE_RETRY if successor.matches(self.current_token) else Presented.OTHER_SUCCESSOR
        return Presented.REUSED
