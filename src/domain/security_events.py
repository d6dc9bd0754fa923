"""The security log: what happened to an account, append-only, holding no secret."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID


class SecurityEventType(enum.StrEnum):
    LOGIN_SUCCEEDED = "login_succeeded"
    LOGIN_FAILED = "login_failed"  # a registered address with a wrong password
    LOGIN_RATE_LIMITED = "login_rate_limited"  # once per lock-out
    REFRESH_TOKEN_REUSE = "refresh_token_reuse"  # noqa: S105
    SESSION_ENDED = "session_ended"
    LOGOUT_ALL = "logout_all"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105
    PASSWORD_RESET_REQUESTED = "password_reset_requested"  # noqa: S105
    PASSWORD_RESET_COMPLETED = "password_reset_completed"  # noqa: S105
    EMAIL_VERIFIED = "email_verified"
    EMAIL_CHANGE_REQUESTED = "email_change_requested"
    EMAIL_CHANGED = "email_changed"
    USER_DISABLED = "user_disabled"
    USER_ENABLED = "user_enabled"
    ROLES_CHANGED = "roles_changed"
    SESSIONS_ENDED_BY_ADMIN = "sessions_ended_by_admin"
    USER_DELETED = "user_deleted"


class Actor(enum.StrEnum):
    USER = "user"
    ADMIN = "admin"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True, kw_only=True)
class SecurityEvent:
    """One entry. `user_id` is the account it concerns (kept after the account is deleted); `actor_id` the
    admin who acted, when one did."""

    id: UUID
    user_id: UUID
    type: SecurityEventType
    at: datetime
    actor: Actor = Actor.USER
    ip: str | None = None
    user_agent: str | None = None
    session_id: UUID | None = None
    actor_id: UUID | None = None

    def as_seen_by_its_user(self) -> SecurityEvent:
        """What the account's own log shows: an admin's address and browser are the admin's, not theirs to see
        (admins see them in /admin)."""
        if self.actor is not Actor.ADMIN:
            return self
        return dataclasses.replace(self, ip=None, user_agent=None)
