"""Rows → domain entities. Nothing above infrastructure sees a row."""

from __future__ import annotations

from typing import Any

from sqlalchemy import RowMapping

from domain.items import Item
from domain.notifications import Notification, NotificationKind, NotificationStatus
from domain.session import Session
from domain.tokens import TokenDigest
from domain.user import Email, PasswordHash, User


def user_from_row(row: RowMapping) -> User:
    return User(id=row["id"], email=Email(row["email"]), password_hash=PasswordHash(row["password_hash"]),
                full_name=row["full_name"], created_at=row["created_at"], updated_at=row["updated_at"])


def session_from_row(row: RowMapping) -> Session:
    previous = row["previous_token"]
    return Session(
        id=row["id"], user_id=row["user_id"], created_at=row["created_at"],
        last_used_at=row["last_used_at"], absolute_expires_at=row["absolute_expires_at"],
        current_token=TokenDigest(row["current_token"]),
        previous_token=TokenDigest(previous) if previous else None,
        rotated_at=row["rotated_at"], revoked_at=row["revoked_at"], revoked_reason=row["revoked_reason"],
        user_agent=row["user_agent"], ip=row["ip"],
    )


def session_values(session: Session) -> dict[str, Any]:
    return {
        "id": session.id, "user_id": session.user_id, "created_at": session.created_at,
        "last_used_at": session.last_used_at, "absolute_expires_at": session.absolute_expires_at,
        "current_token": session.current_token.value,
        "previous_token": session.previous_token.value if session.previous_token else None,
        "rotated_at": session.rotated_at, "revoked_at": session.revoked_at,
        "revoked_reason": session.revoked_reason, "user_agent": session.user_agent, "ip": session.ip,
    }


def item_from_row(row: RowMapping) -> Item:
    return Item(id=row["id"], owner_id=row["owner_id"], title=row["title"], description=row["description"],
                created_at=row["created_at"], updated_at=row["updated_at"])


def notification_from_row(row: RowMapping) -> Notification:
    return Notification(
        id=row["id"], user_id=row["user_id"], kind=NotificationKind(row["kind"]), message=row["message"],
        status=NotificationStatus(row["status"]), created_at=row["created_at"],
        delivered_at=row["delivered_at"], attempts=row["attempts"], last_error=row["last_error"],
        claimed_until=row["claimed_until"],
    )
