"""The rules of administration: who may act on whom, and that an active admin always remains."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domain.errors import CannotActOnSelf, LastAdmin
from domain.security_events import SecurityEventType
from domain.user import AccountStatus, Email, User


def ensure_not_self(acting_admin: UUID | None, target: User, what: str) -> None:
    """An admin cannot disable or delete their own account through administration (their own
    `DELETE /users/me` is another matter). Checked before `ensure_an_admin_remains`."""
    if acting_admin is not None and acting_admin == target.id:
        raise CannotActOnSelf(f"You cannot {what} your own account; another admin can")


def takes_an_admin_away(before: User, after: User | None) -> bool:
    """Whether a change (`after`: the account as it would be; None: deleted) leaves one active admin fewer."""
    return before.is_active_admin and (after is None or not after.is_active_admin)


def ensure_an_admin_remains(before: User, after: User | None, other_active_admins: int) -> None:
    """The last active admin cannot lose the role, be disabled or be deleted. `other_active_admins` must be
    counted while no other such change can commit (UserRepository.hold_admins)."""
    if takes_an_admin_away(before, after) and other_active_admins == 0:
        raise LastAdmin("This is the last active admin: make another account an admin first")


@dataclass(frozen=True, slots=True, kw_only=True)
class UserFilter:
    """What the admin listing of accounts keeps; every filter given must hold (they combine)."""

    email_contains: str | None = None  # a piece of the stored (normalised) address
    role: str | None = None
    status: AccountStatus | None = None
    verified: bool | None = None

    @staticmethod
    def address_piece(typed: str) -> str:
        """A piece of an address as a person typed it, in the form stored addresses have."""
        return Email.fold(typed)


@dataclass(frozen=True, slots=True, kw_only=True)
class EventFilter:
    """What the admin listing of security events keeps; `since` inclusive, `until` exclusive."""

    user_id: UUID | None = None
    type: SecurityEventType | None = None
    since: datetime | None = None
    until: datetime | None = None
