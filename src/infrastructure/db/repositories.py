"""SQLAlchemy Core repositories over the unit of work's connection. They never commit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from sqlalchemy import ColumnElement, and_, case, delete, func, insert, literal, or_, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect, Result
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import Executable

from domain.errors import EmailTaken
from domain.items import Item, Page
from domain.notifications import Notification, NotificationStatus
from domain.ports import ItemRepository, NotificationRepository, SessionRepository, UserRepository
from domain.session import RevocationReason, Session
from domain.tokens import TokenDigest
from domain.user import Email, User
from infrastructure.db import mappers
from infrastructure.db.pg_fast import PgFastPath
from infrastructure.db.tables import UTCDateTime, items, notifications, refresh_tokens, sessions, users
from infrastructure.db.user_cache import UserCache

MAX_NOTIFICATIONS_LISTED = 500


class Connection(Protocol):
    """What repositories need of a connection (the unit of work hands out a lazily opened one)."""

    @property
    def dialect(self) -> Dialect: ...
    async def execute(self, statement: Executable) -> Result[Any]: ...


class InsertBatch(Protocol):
    """Takes new rows to write later in one statement (see SqlUnitOfWork); False: write them now."""

    def defer_session(self, session: Session) -> bool: ...
    def defer_notification(self, notification: Notification) -> bool: ...


def session_inserts(session: Session) -> tuple[Executable, Executable]:
    return (insert(sessions).values(**mappers.session_values(session)),
            insert(refresh_tokens).values(digest=session.current_token.value, session_id=session.id,
                                          issued_at=session.created_at))


def notification_insert(notification: Notification) -> Executable:
    return insert(notifications).values(
        id=notification.id, user_id=notification.user_id, kind=notification.kind.value,
        message=notification.message, status=notification.status.value,
        created_at=notification.created_at, attempts=notification.attempts,
        claimed_until=notification.claimed_until)


class SqlUserRepository(UserRepository):
    def __init__(self, conn: Connection, fast: PgFastPath | None = None, cache: UserCache | None = None,
                 changed: Callable[[UUID], None] | None = None) -> None:
        self._conn = conn
        self._fast = fast
        self._cache = cache
        self._changed = changed  # told the id of every row this unit of work writes

    async def get(self, user_id: UUID) -> User | None:
        if self._fast is not None:
            return await self._fast.user(user_id)
        row = (await self._conn.execute(select(users).where(users.c.id == user_id))).mappings().first()
        return mappers.user_from_row(row) if row else None

    async def get_profile(self, user_id: UUID) -> User | None:
        if self._cache is not None:
            return await self._cache.get(user_id, self.get)
        return await self.get(user_id)

    async def get_by_email(self, email: Email) -> User | None:
        if self._fast is not None:
            return await self._fast.user_by_email(email.value)
        query = select(users).where(users.c.email == email.value)
        row = (await self._conn.execute(query)).mappings().first()
        return mappers.user_from_row(row) if row else None

    async def add(self, user: User) -> None:
        try:
            await self._conn.execute(insert(users).values(
                id=user.id, email=user.email.value, password_hash=user.password_hash.value,
                full_name=user.full_name, created_at=user.created_at, updated_at=user.updated_at))
        except IntegrityError:  # the only unique column a fresh uuid4 row can clash on is the email
            raise EmailTaken("An account with this email already exists") from None

    async def update(self, user: User) -> None:
        if self._changed is not None:
            self._changed(user.id)
        await self._conn.execute(update(users).where(users.c.id == user.id).values(
            password_hash=user.password_hash.value, full_name=user.full_name, updated_at=user.updated_at))


class SqlSessionRepository(SessionRepository):
    def __init__(self, conn: Connection, fast: PgFastPath | None = None, batch: InsertBatch | None = None) -> None:
        self._conn = conn
        self._fast = fast
        self._batch = batch

    async def add(self, session: Session) -> None:
        if self._batch is not None and self._batch.defer_session(session):
            return
        for statement in session_inserts(session):
            await self._conn.execute(statement)

    async def get(self, session_id: UUID) -> Session | None:
        row = (await self._conn.execute(select(sessions).where(sessions.c.id == session_id))).mappings().first()
        return mappers.session_from_row(row) if row else None

    async def find_by_token(self, digest: TokenDigest) -> Session | None:
        query = select(sessions).join(refresh_tokens, refresh_tokens.c.session_id == sessions.c.id).where(
            refresh_tokens.c.digest == digest.value)
        row = (await self._conn.execute(query)).mappings().first()
        return mappers.session_from_row(row) if row else None

    async def rotate(self, presented: TokenDigest, successor: TokenDigest, now: datetime,
                     idle_cutoff: datetime) -> Session | None:
        # Race-free spend: the row lock and the re-checked WHERE of one conditional UPDATE let only one
        # of any number of concurrent spends match (the others see current_token changed). Each form
        # below is safe without a surrounding transaction, so the caller may run it in autocommit.
        if self._fast is not None:
            return await self._fast.rotate(presented, successor, now, idle_cutoff)
        live = (sessions.c.current_token == presented.value, sessions.c.revoked_at.is_(None),
                sessions.c.absolute_expires_at > now, sessions.c.last_used_at > idle_cutoff)
        spend = (update(sessions).where(*live)
                 .values(previous_token=sessions.c.current_token, current_token=successor.value,
                         rotated_at=now, last_used_at=now))
        if self._conn.dialect.name == "postgresql":
            # One round trip: the UPDATE and the history INSERT in one statement (data-modifying CTE).
            rotated = spend.returning(*sessions.c).cte("rotated")
            remember = insert(refresh_tokens).from_select(
                ["digest", "session_id", "issued_at"],
                select(literal(successor.value), rotated.c.id, literal(now, UTCDateTime)))
            statement = select(rotated).add_cte(remember.cte("remembered"))
            row = (await self._conn.execute(statement)).mappings().first()
        else:
            # History first: if the UPDATE then loses the race (or the process dies), the extra row
            # names a token that was never handed out, which is harmless.
            # With a grace window, racing retries derive the same successor: the loser's row already
            # exists, hence DO NOTHING.
            await self._conn.execute(sqlite_insert(refresh_tokens).from_select(
                ["digest", "session_id", "issued_at"],
                select(literal(successor.value), sessions.c.id, literal(now, UTCDateTime)).where(*live),
            ).on_conflict_do_nothing())
            row = (await self._conn.execute(spend.returning(*sessions.c))).mappings().first()
        return mappers.session_from_row(row) if row else None

    async def touch(self, session_id: UUID, now: datetime) -> None:
        await self._conn.execute(update(sessions).where(sessions.c.id == session_id).values(last_used_at=now))

    async def revoke(self, session_id: UUID, now: datetime, reason: RevocationReason) -> bool:
        result = await self._conn.execute(
            update(sessions).where(sessions.c.id == session_id, sessions.c.revoked_at.is_(None))
            .values(revoked_at=now, revoked_reason=reason.value).returning(sessions.c.id))
        return result.first() is not None

    async def revoke_all_of_user(self, user_id: UUID, now: datetime, reason: RevocationReason,
                                 keep: UUID | None = None) -> list[UUID]:
        conditions = [sessions.c.user_id == user_id, sessions.c.revoked_at.is_(None)]
        if keep is not None:
            conditions.append(sessions.c.id != keep)
        result = await self._conn.execute(update(sessions).where(*conditions)
                                          .values(revoked_at=now, revoked_reason=reason.value)
                                          .returning(sessions.c.id))
        return [row[0] for row in result]

    async def list_active(self, user_id: UUID, now: datetime, idle_cutoff: datetime) -> list[Session]:
        query = (select(sessions)
                 .where(sessions.c.user_id == user_id, sessions.c.revoked_at.is_(None),
                        sessions.c.absolute_expires_at > now, sessions.c.last_used_at > idle_cutoff)
                 .order_by(sessions.c.last_used_at.desc(), sessions.c.id))
        return [mappers.session_from_row(row) for row in (await self._conn.execute(query)).mappings()]


class SqlItemRepository(ItemRepository):
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def add(self, item: Item) -> None:
        await self._conn.execute(insert(items).values(
            id=item.id, owner_id=item.owner_id, title=item.title, description=item.description,
            created_at=item.created_at, updated_at=item.updated_at))

    async def get_owned(self, item_id: UUID, owner_id: UUID) -> Item | None:
        query = select(items).where(items.c.id == item_id, items.c.owner_id == owner_id)
        row = (await self._conn.execute(query)).mappings().first()
        return mappers.item_from_row(row) if row else None

    async def update(self, item: Item) -> None:
        await self._conn.execute(update(items).where(items.c.id == item.id).values(
            title=item.title, description=item.description, updated_at=item.updated_at))

    async def delete_owned(self, item_id: UUID, owner_id: UUID) -> bool:
        result = await self._conn.execute(
            delete(items).where(items.c.id == item_id, items.c.owner_id == owner_id).returning(items.c.id))
        return result.first() is not None

    async def page(self, owner_id: UUID, limit: int, offset: int) -> Page[Item]:
        total = (await self._conn.execute(
            select(func.count()).select_from(items).where(items.c.owner_id == owner_id))).scalar_one()
        query = (select(items).where(items.c.owner_id == owner_id)
                 .order_by(items.c.created_at.desc(), items.c.id.desc()).limit(limit).offset(offset))
        rows = (await self._conn.execute(query)).mappings()
        return Page(items=[mappers.item_from_row(row) for row in rows], total=total)


class SqlNotificationRepository(NotificationRepository):
    def __init__(self, conn: Connection, fast: PgFastPath | None = None, batch: InsertBatch | None = None) -> None:
        self._conn = conn
        self._fast = fast  # the delivery bookkeeping: one statement each
        self._batch = batch

    async def add(self, notification: Notification) -> None:
        if self._batch is not None and self._batch.defer_notification(notification):
            return
        await self._conn.execute(notification_insert(notification))

    async def list_for_user(self, user_id: UUID) -> list[Notification]:
        query = (select(notifications).where(notifications.c.user_id == user_id)
                 .order_by(notifications.c.created_at.desc(), notifications.c.id.desc())
                 .limit(MAX_NOTIFICATIONS_LISTED))
        return [mappers.notification_from_row(r) for r in (await self._conn.execute(query)).mappings()]

    async def claim_for_delivery(self, notification_id: UUID, now: datetime, lease_until: datetime,
                                 held_until: datetime | None = None) -> tuple[Notification, Email | None] | None:
        if self._fast is not None:
            return await self._fast.claim_for_delivery(notification_id, now, lease_until, held_until)
        free = self._claimable(now)
        attempts = notifications.c.attempts + 1
        if held_until is not None:  # or the caller's own claim: renewed, not another attempt
            mine = and_(notifications.c.status == NotificationStatus.QUEUED.value,
                        notifications.c.claimed_until == literal(held_until, UTCDateTime))
            free = or_(free, mine)
            attempts = notifications.c.attempts + case((mine, 0), else_=1)
        statement = (update(notifications).where(notifications.c.id == notification_id, free)
                     .values(claimed_until=lease_until, attempts=attempts).returning(*notifications.c))
        row = (await self._conn.execute(statement)).mappings().first()
        if row is None:
            return None
        return mappers.notification_from_row(row), await self.recipient(notification_id)

    async def claim_stale(self, created_before: datetime, now: datetime, lease_until: datetime,
                          limit: int) -> list[Notification]:
        # SKIP LOCKED on Postgres lets several workers sweep at once without waiting on each other;
        # the conditional WHERE in the UPDATE is what makes each claim exclusive either way.
        candidates = (select(notifications.c.id)
                      .where(notifications.c.created_at < created_before, self._claimable(now))
                      .order_by(notifications.c.created_at).limit(limit)
                      .with_for_update(skip_locked=True))
        statement = (update(notifications)
                     .where(notifications.c.id.in_(candidates.scalar_subquery()), self._claimable(now))
                     .values(claimed_until=lease_until, attempts=notifications.c.attempts + 1)
                     .returning(*notifications.c))
        return [mappers.notification_from_row(r) for r in (await self._conn.execute(statement)).mappings()]

    @staticmethod
    def _claimable(now: datetime) -> ColumnElement[bool]:
        return and_(notifications.c.status == NotificationStatus.QUEUED.value,
                    or_(notifications.c.claimed_until.is_(None), notifications.c.claimed_until <= now))

    async def mark_delivered(self, notification_id: UUID, now: datetime) -> None:
        if self._fast is not None:
            await self._fast.mark_delivered(notification_id, now)
            return
        await self._conn.execute(update(notifications).where(notifications.c.id == notification_id).values(
            status=NotificationStatus.DELIVERED.value, delivered_at=now, claimed_until=None, last_error=None))

    async def mark_attempt_failed(self, notification_id: UUID, error: str, final: bool,
                                  retry_at: datetime) -> None:
        status = NotificationStatus.FAILED if final else NotificationStatus.QUEUED
        await self._conn.execute(update(notifications).where(notifications.c.id == notification_id).values(
            status=status.value, last_error=error, claimed_until=None if final else retry_at))

    async def recipient(self, notification_id: UUID) -> Email | None:
        if self._fast is not None:
            return await self._fast.recipient(notification_id)
        query = (select(users.c.email).join(notifications, notifications.c.user_id == users.c.id)
                 .where(notifications.c.id == notification_id))
        email = (await self._conn.execute(query)).scalar_one_or_none()
        return Email(email) if email else None
