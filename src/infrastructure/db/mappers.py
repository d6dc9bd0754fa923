"""Rows → domain entities and back (a row as the named parameters of its INSERT). Nothing above
infrastructure sees a row."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.account_tokens import AccountToken, AccountTokenKind
from domain.items import Item
from domain.notifications import Notification, NotificationKind, NotificationStatus
from domain.security_events import Actor, SecurityEvent, SecurityEventType
from domain.service_clients import ServiceClient
from domain.session import Session
from domain.tokens import TokenDigest
from domain.user import AccountStatus, Email, PasswordHash, User


def user_from_row(row: Mapping[str, Any]) -> User:
    return User(id=row["id"], email=Email(row["email"]), password_hash=PasswordHash(row["password_hash"]),
                full_name=row["full_name"], created_at=row["created_at"], updated_at=row["updated_at"],
                credential_version=row["credential_version"], email_verified=bool(row["email_verified"]),
                roles=roles_from_column(row["roles"]), status=AccountStatus(row["status"]),
                disabled_reason=row["disabled_reason"], last_login_at=row["last_login_at"])


def user_values(user: User) -> dict[str, Any]:
    return {"id": user.id, "email": user.email.value, "password_hash": user.password_hash.value,
            "full_name": user.full_name, "created_at": user.created_at, "updated_at": user.updated_at,
            "credential_version": user.credential_version, "email_verified": user.email_verified,
            "roles": roles_column(user.roles), "status": user.status.value,
            "disabled_reason": user.disabled_reason, "last_login_at": user.last_login_at}


def roles_column(roles: tuple[str, ...]) -> str:
    """The stored form of an account's roles: space-separated (role names have no spaces), sorted."""
    return " ".join(roles)


def roles_from_column(stored: str | None) -> tuple[str, ...]:
    return tuple(stored.split()) if stored else ()


def session_from_row(row: Mapping[str, Any]) -> Session:
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


def item_from_row(row: Mapping[str, Any]) -> Item:
    return Item(id=row["id"], owner_id=row["owner_id"], title=row["title"], description=row["description"],
                created_at=row["created_at"], updated_at=row["updated_at"])


def item_values(item: Item) -> dict[str, Any]:
    return {"id": item.id, "owner_id": item.owner_id, "title": item.title, "description": item.description,
            "created_at": item.created_at, "updated_at": item.updated_at}


def notification_from_row(row: Mapping[str, Any]) -> Notification:
    return Notification(
        id=row["id"], user_id=row["user_id"], kind=NotificationKind(row["kind"]), message=row["message"],
        status=NotificationStatus(row["status"]), created_at=row["created_at"],
        delivered_at=row["delivered_at"], attempts=row["attempts"], last_error=row["last_error"],
        claimed_until=row["claimed_until"],
        recipient=Email(row["recipient"]) if row["recipient"] else None,
        recipient_verified=bool(row["recipient_verified"]), sealed_link=row["sealed_link"],
    )


def notification_values(n: Notification) -> dict[str, Any]:
    return {"id": n.id, "user_id": n.user_id, "kind": n.kind.value, "message": n.message, "status": n.status.value,
            "created_at": n.created_at, "delivered_at": n.delivered_at, "attempts": n.attempts,
            "last_error": n.last_error, "claimed_until": n.claimed_until,
            "recipient": n.recipient.value if n.recipient else None,
            "recipient_verified": n.recipient_verified if n.recipient else None, "sealed_link": n.sealed_link}


def account_token_from_row(row: Mapping[str, Any]) -> AccountToken:
    return AccountToken(digest=TokenDigest(row["digest"]), user_id=row["user_id"],
                        kind=AccountTokenKind(row["kind"]), email=Email(row["email"]),
                        created_at=row["created_at"], expires_at=row["expires_at"])


def account_token_values(token: AccountToken) -> dict[str, Any]:
    return {"digest": token.digest.value, "user_id": token.user_id, "kind": token.kind.value,
            "email": token.email.value, "created_at": token.created_at, "expires_at": token.expires_at,
            "spent_at": None}


def security_event_from_row(row: Mapping[str, Any]) -> SecurityEvent:
    return SecurityEvent(id=row["id"], user_id=row["user_id"], type=SecurityEventType(row["type"]), at=row["at"],
                         actor=Actor(row["actor"]), actor_id=row["actor_id"], ip=row["ip"],
                         user_agent=row["user_agent"], session_id=row["session_id"])


def security_event_values(event: SecurityEvent) -> dict[str, Any]:
    return {"id": event.id, "user_id": event.user_id, "type": event.type.value, "at": event.at,
            "actor": event.actor.value, "actor_id": event.actor_id, "ip": event.ip,
            "user_agent": event.user_agent, "session_id": event.session_id}


def service_client_from_row(row: Mapping[str, Any]) -> ServiceClient:
    return ServiceClient(client_id=row["client_id"], name=row["name"], secret=TokenDigest(row["secret_digest"]),
                         created_at=row["created_at"])


def service_client_values(client: ServiceClient) -> dict[str, Any]:
    return {"client_id": client.client_id, "name": client.name, "secret_digest": client.secret.value,
            "created_at": client.created_at}
