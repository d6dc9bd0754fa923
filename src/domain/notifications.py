"""Notifications: recorded first, delivered after the response, never lost."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from domain.devices import describe_device
from domain.user import Email, User

MAX_MESSAGE_LENGTH = 2000


class NotificationKind(enum.StrEnum):
    MESSAGE = "message"
    NEW_LOGIN = "new_login"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105
    REFRESH_TOKEN_REUSE = "refresh_token_reuse"  # noqa: S105
    PASSWORD_RESET = "password_reset"  # noqa: S105
    EMAIL_VERIFICATION = "email_verification"
    EMAIL_CHANGE_REQUESTED = "email_change_requested"
    EMAIL_CHANGED = "email_changed"
    ACCOUNT_DISABLED = "account_disabled"

    @property
    def reaches_unverified(self) -> bool:
        """Whether mail of this kind goes to an address nobody has proven yet: only the mail that proves
        it or recovers the account; anything else would let anyone make Gatehouse mail anyone."""
        return self in (NotificationKind.PASSWORD_RESET, NotificationKind.EMAIL_VERIFICATION)


class NotificationStatus(enum.StrEnum):
    QUEUED = "queued"
    DELIVERED = "delivered"
    FAILED = "failed"
    WITHHELD = "withheld"  # final: the address was never proven, so it is not mailed (see reaches_unverified)


SUBJECTS: dict[NotificationKind, str] = {
    NotificationKind.MESSAGE: "A message from your account",
    NotificationKind.NEW_LOGIN: "New sign-in to your account",
    NotificationKind.PASSWORD_CHANGED: "Your password was changed",
    NotificationKind.REFRESH_TOKEN_REUSE: "Security alert: a session was ended",
    NotificationKind.PASSWORD_RESET: "Reset your password",
    NotificationKind.EMAIL_VERIFICATION: "Confirm your email address",
    NotificationKind.EMAIL_CHANGE_REQUESTED: "A change of your email address was requested",
    NotificationKind.EMAIL_CHANGED: "Your email address was changed",
    NotificationKind.ACCOUNT_DISABLED: "Your account was disabled",
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
    # Where it goes when not to the account's current address (a verification of a new address, the
    # notice to an old one); None: the account's address at delivery.
    recipient: Email | None = None
    recipient_verified: bool = False  # whether `recipient` is a proven address
    # The secret link of a reset or verification mail, sealed (encrypted) by the LinkSealer port: only
    # delivery can open it, and it is dropped once the mail is sent or has failed for good.
    sealed_link: str | None = field(default=None, repr=False)

    @classmethod
    def queue(cls, *, id: UUID, user_id: UUID, kind: NotificationKind, message: str,
              now: datetime, lease: timedelta | None = None, recipient: Email | None = None,
              recipient_verified: bool = False, sealed_link: str | None = None) -> Notification:
        """A new notification. With a `lease` it is recorded already claimed by its creator (its first
        attempt under way): the worker that records it delivers it right after the response without
        claiming it again; should that worker die, the recovery sweep takes it once the lease is over."""
        check_message(message)
        return cls(id=id, user_id=user_id, kind=kind, message=message,
                   status=NotificationStatus.QUEUED, created_at=now,
                   attempts=1 if lease is not None else 0,
                   claimed_until=now + lease if lease is not None else None,
                   recipient=recipient, recipient_verified=recipient_verified, sealed_link=sealed_link)

    @property
    def subject(self) -> str:
        return SUBJECTS[self.kind]

    def may_mail(self, address_verified: bool) -> bool:
        return address_verified or self.kind.reaches_unverified

    def mail_text(self, link: str | None) -> str:
        """The mail's plain-text body: the message, and the link (if any) alone on its own line."""
        return f"{self.message}\n\n{link}\n" if link else f"{self.message}\n"


def check_message(message: str) -> str:
    """The message rule (the request schema applies it too, so a bad message is a 422, never a 500).
    Blank means what `str.strip` removes, control characters like U+001F included."""
    if not message.strip() or len(message) > MAX_MESSAGE_LENGTH:
        raise ValueError(f"message must be 1 to {MAX_MESSAGE_LENGTH} characters, not blank")
    return message


@dataclass(frozen=True, slots=True)
class Recipient:
    """Where a notification goes, and whether that address is proven."""

    email: Email
    verified: bool


@dataclass(frozen=True, slots=True)
class Handoff:
    """A notification its creator claimed, handed to delivery after the response, with the recipient's
    address and whether it is proven when the creator knows them (None: delivery looks them up)."""

    notification: Notification
    recipient: Email | None = None
    verified: bool = False

    @classmethod
    def of(cls, notification: Notification, account: User | None) -> Handoff:
        """To its own recipient if it names one, else to `account`'s address (None: looked up)."""
        if notification.recipient is not None:
            return cls(notification, notification.recipient, notification.recipient_verified)
        if account is not None:
            return cls(notification, account.email, account.email_verified)
        return cls(notification)


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
RESET_COMPLETED_TEXT = (
    "Your password was reset with a link sent to this address, and every session of your account was ended. "
    "If this was not you, reset your password again and contact support."
)
DISABLED_MESSAGE = (
    "Your account was disabled by an administrator and every session of it was ended: it cannot sign in "
    "until an administrator enables it again. If you did not expect this, contact support."
)
REUSE_MESSAGE = (
    "A refresh token of one of your sessions was used twice, which suggests it was stolen. "
    "That session has been ended; sign in again."
)


def _expiry(expires_at: datetime) -> str:
    return expires_at.strftime("%H:%M UTC on %d %B %Y")


def reset_message(expires_at: datetime, by_admin: bool = False) -> str:
    if by_admin:
        return ("An administrator started a reset of your account's password. To choose a new password, open the "
                f"link below; it works once, until {_expiry(expires_at)}.")
    return ("Someone asked to reset the password of your account. To choose a new password, open the link "
            f"below; it works once, until {_expiry(expires_at)}. If this was not you, ignore this mail: your "
            "password stays as it is.")


def verification_message(email: Email, expires_at: datetime, change: bool) -> str:
    what = ("make it the address of your account" if change else "confirm that it belongs to you")
    return (f"To {what} ({email.value}), open the link below and press Confirm; it works once, until "
            f"{_expiry(expires_at)}. If this was not you, ignore this mail: nothing changes.")


def change_requested_message(new_email: Email) -> str:
    return (f"Someone with your password asked to change your account's address to {new_email.value}. It changes "
            "only when a link sent there is confirmed. If this was not you, change your password now.")


def email_changed_message(new_email: Email) -> str:
    return (f"Your account's address was changed to {new_email.value}. This address no longer signs in. If this "
            "was not you, contact support.")
