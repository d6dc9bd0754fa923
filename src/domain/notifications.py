"""Notifications: recorded first, delivered after the response, never lost."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from domain.devices import describe_device
from domain.user import Email

MAX_MESSAGE_LENGTH = 2000


class NotificationKind(enum.StrEnum):
    MESSAGE = "message"
    NEW_LOGIN = "new_login"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105
    REFRESH_TOKEN_REUSE = "refresh_token_reuse"  # noqa: S105


class NotificationStatus(enum.StrEnum):
    QUEUED = "queued"
    DELIVERED = "delivered"
    FAILED = "failed"


SUBJECTS: dict[NotificationKind, str] = {
    NotificationKind.MESSAGE: "A message from your account",
    NotificationKind.NEW_LOGIN: "New sign-in to your account",
    NotificationKind.PASSWORD_CHANGED: "Your password was changed",
    NotificationKind.REFRESH_TOKEN_REUSE: "Security alert: a session was ended",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryPolicy:
    """Bounded retries with exponential backoff; a claim lease covers one delivery attempt."""

    max_attempts: int = 3
    backoff_base: timedelta = timedelta(seconds=1)
    lease: timedelta = timedelta(seconds=60)
    stale_after: timedelta = timedelta(seconds=30)
    # A creator delivers the notification it recorded (already claimed) without claiming it again only
    # this soon after recording it; later, it claims it like anyone else would.
    handoff_window: timedelta = timedelta(seconds=1)

    def backoff(self, attempt: int) -> timedelta:
        factor: int = 2 ** max(0, attempt - 1)
        return self.backoff_base * factor


@dataclass(slots=True, kw_only=True)
class Notification:
    id: UUID
    user_id: UUID
    kind: NotificationKind
    message: str
    status: NotificationStatus
    created_at: datetime
    delivered_at: datetime | None = None
    attempts: int = 0
    last_error: str | None = None
    claimed_until: datetime | None = None

    @classmethod
    def queue(cls, *, id: UUID, user_id: UUID, kind: NotificationKind, message: str,
              now: datetime, lease: timedelta | None = None) -> Notification:
        """A new notification. With a `lease` it is recorded already claimed by its creator (its first
        attempt under way): the worker that records it delivers it right after the response without
        claiming it again; should that worker die, the recovery sweep takes it once the lease is over."""
        check_message(message)
        return cls(id=id, user_id=user_id, kind=kind, message=message,
                   status=NotificationStatus.QUEUED, created_at=now,
                   attempts=1 if lease is not None else 0,
                   claimed_until=now + lease if lease is not None else None)

    @property
    def subject(self) -> str:
        return SUBJECTS[self.kind]


def check_message(message: str) -> str:
    """The message rule (the request schema applies it too, so a bad message is a 422, never a 500).
    Blank means what `str.strip` removes, control characters like U+001F included."""
    if not message.strip() or len(message) > MAX_MESSAGE_LENGTH:
        raise ValueError(f"message must be 1 to {MAX_MESSAGE_LENGTH} characters, not blank")
    return message


@dataclass(frozen=True, slots=True)
class Handoff:
    """A notification its creator claimed, handed to delivery after the response, with the recipient's
    address when the creator knows it (None: delivery looks it up)."""

    notification: Notification
    recipient: Email | None = None


def login_message(ip: str | None, user_agent: str | None) -> str:
    """The sign-in notice: the device as a description from a fixed list (domain/devices.py), never the
    client's own User-Agent text; the address as the service saw it (a validated IP address)."""
    where = ip or "an unknown address"
    return (f"Your account was signed in to from {where} with {describe_device(user_agent)}. "
            "If this was not you, change your password.")


CREDENTIALS_CHANGED_TEXT = (
    "Your password was changed and your other sessions were ended. "
    "If this was not you, reset your password and contact support."
)
REUSE_MESSAGE = (
    "A refresh token of one of your sessions was used twice, which suggests it was stolen. "
    "That session has been ended; sign in again."
)
