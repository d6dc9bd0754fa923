"""The repositories: the ports of domain/ports.py over a `StatementRunner`. They never commit.

Each method runs statements of statements.py and maps rows with mappers.py; which runner (a
transaction, an autocommit connection, the asyncpg pool) is the unit of work's choice, not theirs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from sqlalchemy import Insert

from domain.account_tokens import AccountToken, AccountTokenKind
from domain.administration import EventFilter, UserFilter
from domain.errors import ClientNameTaken, EmailTaken
from domain.items import Item, Page
from domain.notifications import Handoff, Notification, NotificationStatus, Recipient
from domain.paging import Position
from domain.ports import (
    AccountTokenRepository,
    ItemRepository,
    NotificationRepository,
    SecurityEventRepository,
    ServiceClientRepository,
    SessionRepository,
    UserRepository,
)
from domain.security_events import SecurityEvent
from domain.service_clients import ServiceClient
from domain.session import RevocationReason, Session
from domain.tokens import TokenDigest
from domain.user import Email, User
from infrastructure.db import mappers
from infrastructure.db import statements as sql
from infrastructure.db.runners import ConstraintViolation, Params, StatementRunner

Insertion = Callable[[Insert, Params], Awaitable[None]]
"""Writes one new row: now (a runner's `run`), or held for the unit of work's commit (held_inserts.py)."""


class ProfileCache(Protocol):
    """Where `get_profile` may find an account row read recently (user_cache.py)."""

    async def get(self, user_id: UUID, load: Callable[[UUID], Awaitable[User | None]]) -> User | None: ...
    def forget(self, user_id: UUID) -> None: ...


class SqlUserRepository(UserRepository):
    def __init__(self, db: StatementRunner, profiles: ProfileCache, changed: Callable[[UUID], None],
                 require: Callable[[Params], Awaitable[None]]) -> None:
        self._db = db
        self._profiles = profiles
        self._changed = changed  # told the id of every row this unit of work writes
        self._require = require  # the unit of work's: where the credentials it depends on are held

    async def get(self, user_id: UUID) -> User | None:
        row = await self._db.one(sql.USER_BY_ID, {"user_id": user_id})
        return mappers.user_from_row(row) if row else None

    async def get_profile(self, user_id: UUID) -> User | None:
        return await self._profiles.get(user_id, self.get)

    async def get_by_email(self, email: Email) -> User | None:
        row = await self._db.one(sql.USER_BY_EMAIL, {"email": email.value})
        return mappers.user_from_row(row) if row else None

    async def add(self, user: User) -> None:
        try:
            await self._db.run(sql.INSERT_USER, mappers.user_values(user))
        except ConstraintViolation:  # the only unique column a fresh uuid4 row can clash on is the email
            raise EmailTaken("An account with this email already exists") from None

    async def rename(self, user: User) -> None:
        self._changed(user.id)
        await self._db.run(sql.RENAME_USER, {"user_id": user.id, "full_name": user.full_name,
                                             "updated_at": user.updated_at})

    async def change_password(self, user: User, expected_version: int) -> bool:
        self._changed(user.id)
        changed = await self._db.one(sql.CHANGE_PASSWORD, {
            "user_id": user.id, "expected_version": expected_version, "new_version": user.credential_version,
            "password_hash": user.password_hash.value, "updated_at": user.updated_at})
        return changed is not None

    async def rehash(self, user: User) -> None:
        self._changed(user.id)
        await self._db.run(sql.REHASH_PASSWORD, {"user_id": user.id, "expected_version": user.credential_version,
                                                 "password_hash": user.password_hash.value})

    async def require_credentials(self, user_id: UUID, version: int) -> None:
        await self._require({"guard_user": user_id, "guard_version": version})

    async def mark_verified(self, user_id: UUID, email: Email) -> bool:
        self._changed(user_id)
        return await self._db.one(sql.MARK_VERIFIED, {"user_id": user_id, "address": email.value}) is not None

    async def change_email(self, user: User) -> None:
        self._changed(user.id)
        try:
            await self._db.run(sql.CHANGE_EMAIL, {"user_id": user.id, "email": user.email.value,
                                                  "email_verified": user.email_verified,
                                                  "updated_at": user.updated_at})
        except ConstraintViolation:
            raise EmailTaken("Another account has this email address now") from None

    async def delete(self, user_id: UUID) -> bool:
        self._changed(user_id)
        return await self._db.one(sql.DELETE_USER, {"user_id": user_id}) is not None

    async def set_roles(self, user: User) -> None:
        self._changed(user.id)
        await self._db.run(sql.SET_ROLES, {"user_id": user.id, "roles": mappers.roles_column(user.roles),
                                           "updated_at": user.updated_at})

    async def set_status(self, user: User) -> None:
        self._changed(user.id)
        await self._db.run(sql.SET_STATUS, {"user_id": user.id, "status": user.status.value,
                                            "disabled_reason": user.disabled_reason, "updated_at": user.updated_at})

    async def record_login(self, user_id: UUID, now: datetime) -> None:
        self._changed(user_id)
        await self._db.run(sql.RECORD_LOGIN, {"user_id": user_id, "now": now})

    async def hold_admins(self) -> None:
        await self._db.run(sql.HOLD_ADMINS[self._db.dialect_name], {})

    async def count_active_admins(self, besides: UUID) -> int:
        row = await self._db.one(sql.COUNT_ACTIVE_ADMINS, {"besides": besides})
        return int(row["admins"]) if row else 0

    async def page(self, which: UserFilter, limit: int, after: Position | None) -> list[User]:
        params: dict[str, Any] = {"limit": limit}
        if which.email_contains is not None:
            params["email_pattern"] = sql.like_pattern(which.email_contains)
        if which.role is not None:
            params["role_pattern"] = sql.like_pattern(which.role, around=" ")
        if which.status is not None:
            params["account_status"] = which.status.value
        if which.verified is not None:
            params["verified"] = which.verified
        if after is not None:
            params["after_at"], params["after_id"] = after.at, after.id
        statement = sql.users_page(email=which.email_contains is not None, role=which.role is not None,
                                   status=which.status is not None, verified=which.verified is not None,
                                   after=after is not None)
        return [mappers.user_from_row(row) for row in await self._db.all(statement, params)]


class SqlAccountTokenRepository(AccountTokenRepository):
    def __init__(self, db: StatementRunner) -> None:
        self._db = db

    async def replace(self, token: AccountToken) -> None:
        await self.void(token.user_id, token.kind, token.created_at)
        await self._db.run(sql.INSERT_ACCOUNT_TOKEN, mappers.account_token_values(token))

    async def find_usable(self, digest: TokenDigest, kind: AccountTokenKind, now: datetime) -> AccountToken | None:
        row = await self._db.one(sql.USABLE_ACCOUNT_TOKEN, {"token_digest": digest.value, "token_kind": kind.value,
                                                            "now": now})
        return mappers.account_token_from_row(row) if row else None

    async def spend(self, digest: TokenDigest, kind: AccountTokenKind, now: datetime) -> AccountToken | None:
        row = await self._db.one(sql.SPEND_ACCOUNT_TOKEN, {"token_digest": digest.value, "token_kind": kind.value,
                                                           "now": now})
        return mappers.account_token_from_row(row) if row else None

    async def void(self, user_id: UUID, kind: AccountTokenKind, now: datetime) -> None:
        await self._db.run(sql.VOID_ACCOUNT_TOKENS, {"owner": user_id, "token_kind": kind.value, "now": now})

    async def void_all(self, user_id: UUID, now: datetime) -> None:
        await self._db.run(sql.VOID_ALL_ACCOUNT_TOKENS, {"owner": user_id, "now": now})


class SqlSecurityEventRepository(SecurityEventRepository):
    def __init__(self, db: StatementRunner, insert: Insertion) -> None:
        self._db = db
        self._insert = insert

    async def add(self, event: SecurityEvent) -> None:
        await self._insert(sql.INSERT_SECURITY_EVENT, mappers.security_event_values(event))

    async def page(self, user_id: UUID, limit: int, after: Position | None) -> list[SecurityEvent]:
        if after is None:
            rows = await self._db.all(sql.FIRST_EVENTS, {"user_id": user_id, "limit": limit})
        else:
            rows = await self._db.all(sql.EVENTS_AFTER, {"user_id": user_id, "limit": limit,
                                                         "after_at": after.at, "after_id": after.id})
        return [mappers.security_event_from_row(row) for row in rows]

    async def page_all(self, which: EventFilter, limit: int, after: Position | None) -> list[SecurityEvent]:
        params: dict[str, Any] = {"limit": limit, "user_id": which.user_id,
                                  "event_type": which.type.value if which.type else None,
                                  "since": which.since, "until": which.until}
        if after is not None:
            params["after_at"], params["after_id"] = after.at, after.id
        statement = sql.events_page(user=which.user_id is not None, type=which.type is not None,
                                    since=which.since is not None, until=which.until is not None,
                                    after=after is not None)
        params = {k: v for k, v in params.items() if v is not None}
        return [mappers.security_event_from_row(row) for row in await self._db.all(statement, params)]


class SqlServiceClientRepository(ServiceClientRepository):
    def __init__(self, db: StatementRunner) -> None:
        self._db = db

    async def add(self, client: ServiceClient) -> None:
        try:
            await self._db.run(sql.INSERT_SERVICE_CLIENT, mappers.service_client_values(client))
        except ConstraintViolation:  # a fresh random id cannot clash: the name did
            raise ClientNameTaken(f"A service client named {client.name!r} exists already") from None

    async def get(self, client_id: str) -> ServiceClient | None:
        row = await self._db.one(sql.SERVICE_CLIENT, {"client": client_id})
        return mappers.service_client_from_row(row) if row else None

    async def list_all(self) -> list[ServiceClient]:
        return [mappers.service_client_from_row(row) for row in await self._db.all(sql.SERVICE_CLIENTS, {})]

    async def delete(self, client_id: str) -> bool:
        return await self._db.one(sql.DELETE_SERVICE_CLIENT, {"client": client_id}) is not None


class SqlSessionRepository(SessionRepository):
    def __init__(self, db: StatementRunner, insert: Insertion) -> None:
        self._db = db
        self._insert = insert
        self._rotation = sql.ROTATION[db.dialect_name]

    async def add(self, session: Session) -> None:
        await self._insert(sql.INSERT_SESSION, mappers.session_values(session))
        await self._insert(sql.INSERT_TOKEN, {"digest": session.current_token.value, "session_id": session.id,
                                              "issued_at": session.created_at})

    async def get(self, session_id: UUID) -> Session | None:
        row = await self._db.one(sql.SESSION_BY_ID, {"session_id": session_id})
        return mappers.session_from_row(row) if row else None

    async def find_by_token(self, digest: TokenDigest) -> Session | None:
        row = await self._db.one(sql.SESSION_BY_TOKEN, {"digest": digest.value})
        return mappers.session_from_row(row) if row else None

    async def rotate(self, presented: TokenDigest, successor: TokenDigest, now: datetime,
                     idle_cutoff: datetime) -> tuple[Session, tuple[str, ...]] | None:
        params = {"presented": presented.value, "successor": successor.value, "now": now,
                  "idle_cutoff": idle_cutoff}
        *before, last = self._rotation
        for statement in before:
            await self._db.run(statement, params)
        row = await self._db.one(last, params)
        return (mappers.session_from_row(row), mappers.roles_from_column(row["owner_roles"])) if row else None

    async def touch(self, session_id: UUID, now: datetime) -> None:
        await self._db.run(sql.TOUCH_SESSION, {"session_id": session_id, "now": now})

    async def revoke(self, session_id: UUID, now: datetime, reason: RevocationReason) -> bool:
        row = await self._db.one(sql.REVOKE_SESSION, {"session_id": session_id, "now": now, "reason": reason.value})
        return row is not None

    async def revoke_all_of_user(self, user_id: UUID, now: datetime, reason: RevocationReason,
                                 keep: UUID | None = None) -> list[UUID]:
        rows = await self._db.all(sql.REVOKE_SESSIONS_OF_USER, {"user": user_id, "now": now,
                                                                "reason": reason.value, "keep": keep})
        return [row["id"] for row in rows]

    async def list_active(self, user_id: UUID, now: datetime, idle_cutoff: datetime) -> list[Session]:
        rows = await self._db.all(sql.LIVE_SESSIONS_OF_USER, {"user_id": user_id, "now": now,
                                                              "idle_cutoff": idle_cutoff})
        return [mappers.session_from_row(row) for row in rows]

    async def has_live_beyond(self, user_id: UUID, keep: int, now: datetime, idle_cutoff: datetime) -> bool:
        return await self._db.one(sql.ANY_LIVE_BEYOND, {"user": user_id, "keep": keep, "now": now,
                                                        "idle_cutoff": idle_cutoff}) is not None

    async def revoke_beyond(self, user_id: UUID, keep: int, now: datetime, idle_cutoff: datetime,
                            reason: RevocationReason) -> list[UUID]:
        rows = await self._db.all(sql.REVOKE_SESSIONS_BEYOND, {"user": user_id, "keep": keep, "now": now,
                                                               "idle_cutoff": idle_cutoff, "reason": reason.value})
        return [row["id"] for row in rows]


class SqlItemRepository(ItemRepository):
    def __init__(self, db: StatementRunner) -> None:
        self._db = db

    async def add(self, item: Item) -> None:
        await self._db.run(sql.INSERT_ITEM, mappers.item_values(item))

    async def get_owned(self, item_id: UUID, owner_id: UUID) -> Item | None:
        row = await self._db.one(sql.ITEM_OWNED, {"item_id": item_id, "owner_id": owner_id})
        return mappers.item_from_row(row) if row else None

    async def update(self, item: Item) -> None:
        await self._db.run(sql.UPDATE_ITEM, {"item_id": item.id, "title": item.title,
                                             "description": item.description, "updated_at": item.updated_at})

    async def delete_owned(self, item_id: UUID, owner_id: UUID) -> bool:
        return await self._db.one(sql.DELETE_ITEM_OWNED, {"item_id": item_id, "owner_id": owner_id}) is not None

    async def page(self, owner_id: UUID, limit: int, offset: int) -> Page[Item]:
        counted = await self._db.one(sql.COUNT_ITEMS_OWNED, {"owner_id": owner_id})
        rows = await self._db.all(sql.PAGE_OF_ITEMS_OWNED, {"owner_id": owner_id, "limit": limit, "offset": offset})
        return Page(items=[mappers.item_from_row(row) for row in rows], total=counted["total"] if counted else 0)


class SqlNotificationRepository(NotificationRepository):
    def __init__(self, db: StatementRunner, insert: Insertion, recorded: Callable[[Handoff], None]) -> None:
        self._db = db
        self._insert = insert
        self._recorded = recorded  # the unit of work hands what it committed to delivery

    async def add(self, notification: Notification, account: User | None = None) -> None:
        await self._insert(sql.INSERT_NOTIFICATION, mappers.notification_values(notification))
        self._recorded(Handoff.of(notification, account))

    async def list_for_user(self, user_id: UUID) -> list[Notification]:
        rows = await self._db.all(sql.NOTIFICATIONS_OF_USER, {"user_id": user_id})
        return [mappers.notification_from_row(row) for row in rows]

    async def claim_for_delivery(self, notification_id: UUID, now: datetime, lease_until: datetime,
                                 held_until: datetime | None = None) -> tuple[Notification, Recipient | None] | None:
        row = await self._db.one(sql.CLAIM_FOR_DELIVERY, {"notification_id": notification_id, "now": now,
                                                          "lease_until": lease_until, "held_until": held_until})
        if row is None:
            return None
        return mappers.notification_from_row(row), _recipient(row)

    async def claim_stale(self, created_before: datetime, now: datetime, lease_until: datetime,
                          limit: int) -> list[Notification]:
        rows = await self._db.all(sql.CLAIM_STALE, {"created_before": created_before, "now": now,
                                                    "lease_until": lease_until, "limit": limit})
        return [mappers.notification_from_row(row) for row in rows]

    async def mark_delivered(self, notification_id: UUID, now: datetime) -> None:
        await self._db.run(sql.MARK_DELIVERED, {"notification_id": notification_id, "now": now})

    async def mark_withheld(self, notification_id: UUID) -> None:
        await self._db.run(sql.MARK_WITHHELD, {"notification_id": notification_id})

    async def mark_attempt_failed(self, notification_id: UUID, error: str, final: bool,
                                  retry_at: datetime) -> None:
        status = NotificationStatus.FAILED if final else NotificationStatus.QUEUED
        await self._db.run(sql.MARK_ATTEMPT_FAILED, {"notification_id": notification_id, "status": status.value,
                                                     "error": error, "retry_at": None if final else retry_at,
                                                     "final": final})

    async def recipient(self, notification_id: UUID) -> Recipient | None:
        row = await self._db.one(sql.RECIPIENT, {"notification_id": notification_id})
        return _recipient(row) if row else None


def _recipient(row: Mapping[str, Any]) -> Recipient | None:
    return Recipient(Email(row["to_address"]), bool(row["to_verified"])) if row["to_address"] else None
