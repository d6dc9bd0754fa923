"""The retention job's deletes on SQLite and Postgres: what each rule lets go of, what it keeps (a session's
live token, queued mail, recent history), batches, and one worker at a time."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from application.purge_expired_records import PurgeExpiredRecords, PurgeReport
from domain.retention import Purgeable, RetentionPolicy
from domain.session import RevocationReason, Session, SessionPolicy
from domain.tokens import TokenDigest
from domain.user import Email, PasswordHash, User
from infrastructure.db.engine import create_engine
from infrastructure.db.retention import SqlExpiredRecords
from infrastructure.db.tables import account_tokens, notifications, refresh_tokens, security_events
from infrastructure.db.unit_of_work import SqlUnitOfWorkFactory
from infrastructure.db.user_cache import Uncached
from tests.conftest import make_settings
from tests.fakes import FakeClock, RecordingDeliveryQueue

T = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
LONG_LIVED = SessionPolicy(absolute_lifetime=90 * DAY, idle_timeout=30 * DAY)
PERIODS = {Purgeable.TOKEN_HISTORY: 7 * DAY, Purgeable.SESSIONS: 30 * DAY, Purgeable.NOTIFICATIONS: 30 * DAY,
           Purgeable.ACCOUNT_TOKENS: DAY, Purgeable.SECURITY_EVENTS: 365 * DAY}


@dataclass
class Db:
    engine: AsyncEngine
    units: SqlUnitOfWorkFactory

    async def purge(self, now: datetime, batch: int = 2) -> PurgeReport:
        policy = RetentionPolicy(periods=PERIODS, batch_size=batch)
        return await PurgeExpiredRecords(SqlExpiredRecords(self.engine), FakeClock(now), policy,
                                         pause_seconds=0).execute()

    async def user(self) -> User:
        user = User(id=uuid.uuid4(), email=Email.parse(f"{uuid.uuid4().hex[:10]}@example.com"),
                    password_hash=PasswordHash("$argon2id$stored"), full_name=None, created_at=T, updated_at=T)
        async with self.units() as uow:
            await uow.users.add(user)
            await uow.commit()
        return user

    async def session(self, user: User, token: str, at: datetime, policy: SessionPolicy = LONG_LIVED) -> Session:
        session = Session.start(id=uuid.uuid4(), user_id=user.id, token=TokenDigest.of(token), now=at, policy=policy,
                                user_agent="pytest", ip="203.0.113.9")
        async with self.units() as uow:
            await uow.sessions.add(session)
            await uow.commit()
        return session

    async def rotate(self, presented: str, successor: str, at: datetime) -> None:
        async with self.units(autocommit=True) as uow:
            rotated = await uow.sessions.rotate(TokenDigest.of(presented), TokenDigest.of(successor), at,
                                                LONG_LIVED.idle_cutoff(at))
        assert rotated is not None

    async def session_of(self, token: str) -> uuid.UUID | None:
        async with self.units(autocommit=True) as uow:
            found = await uow.sessions.find_by_token(TokenDigest.of(token))
        return found.id if found else None

    async def insert(self, table: Any, **values: Any) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(insert(table).values(**values))

    async def count(self, table: Any) -> int:
        async with self.engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backing(request: pytest.FixtureRequest) -> tuple[AsyncEngine | None, str]:
    if request.param == "sqlite":
        return None, str(request.getfixturevalue("sqlite_url"))
    return request.getfixturevalue("pg_engine"), str(request.getfixturevalue("migrated_postgres"))


@pytest_asyncio.fixture(loop_scope="session")
async def db(backing: tuple[AsyncEngine | None, str], tmp_path: Path) -> AsyncIterator[Db]:
    pg_engine, url = backing
    engine = pg_engine or create_engine(make_settings(tmp_path, url))
    yield Db(engine, SqlUnitOfWorkFactory(engine, None, Uncached(), RecordingDeliveryQueue()))
    if pg_engine is None:
        await engine.dispose()


async def test_spent_refresh_tokens_are_forgotten_a_history_period_after_they_were_spent(db: Db) -> None:
    """Reuse detection keeps working for tokens spent within the period; a session's live token stays,
    even beside a newer row that names a token never handed out (a rotation that died half-way)."""
    alice = await db.user()
    busy = await db.session(alice, "t-0", T)
    for i, at in enumerate([T, T + DAY, T + 2 * DAY, T + 9 * DAY]):
        await db.rotate(f"t-{i}", f"t-{i + 1}", at)
    quiet = await db.session(alice, "q-0", T)
    await db.insert(refresh_tokens, digest=TokenDigest.of("never-handed-out").value, session_id=quiet.id,
                    issued_at=T + DAY)

    report = await db.purge(T + 10 * DAY)  # the cut-off: T + 3 days

    assert report.deleted[Purgeable.TOKEN_HISTORY] == 3  # in two batches of two
    for forgotten in ("t-0", "t-1", "t-2"):  # their successors were issued before the cut-off
        assert await db.session_of(forgotten) is None
    assert await db.session_of("t-3") == busy.id  # spent a day ago: presenting it is still reuse
    assert await db.session_of("t-4") == busy.id  # the live token
    assert await db.session_of("q-0") == quiet.id
    assert (await db.purge(T + 10 * DAY)).deleted[Purgeable.TOKEN_HISTORY] == 0


async def test_sessions_go_a_period_after_revocation_or_absolute_expiry_with_their_history(db: Db) -> None:
    now = T + 100 * DAY  # the cut-off: T + 70 days
    alice = await db.user()
    revoked_long_ago = await db.session(alice, "r-old", T)
    revoked_lately = await db.session(alice, "r-new", T + 95 * DAY)
    expired_long_ago = await db.session(alice, "e-old", T, SessionPolicy(absolute_lifetime=40 * DAY))
    idle = await db.session(alice, "idle", T + 60 * DAY, SessionPolicy(absolute_lifetime=40 * DAY))
    live = await db.session(alice, "live", T + 99 * DAY)
    async with db.units() as uow:
        await uow.sessions.revoke(revoked_long_ago.id, T + DAY, RevocationReason.LOGOUT)
        await uow.sessions.revoke(revoked_lately.id, T + 96 * DAY, RevocationReason.LOGOUT)
        await uow.commit()

    report = await db.purge(now)

    assert report.deleted[Purgeable.SESSIONS] == 2
    async with db.units(autocommit=True) as uow:
        remaining = {s.id for s in [await uow.sessions.get(x.id) for x in
                                    (revoked_long_ago, revoked_lately, expired_long_ago, idle, live)] if s}
    # ended by idleness at T + 67 days, it goes once its absolute expiry (T + 100 days) is a period old
    assert remaining == {revoked_lately.id, idle.id, live.id}
    assert await db.count(refresh_tokens) == 3  # the history of the deleted went with them


async def test_settled_notifications_spent_tokens_and_old_events_go_and_the_rest_stays(db: Db) -> None:
    now = T + 400 * DAY
    alice = await db.user()
    for status, age in [("delivered", 31), ("failed", 31), ("withheld", 31), ("queued", 31), ("delivered", 29)]:
        await db.insert(notifications, id=uuid.uuid4(), user_id=alice.id, kind="message", message="hi",
                        status=status, created_at=now - age * DAY, attempts=1)
    for name, expired in [("expired", now - 2 * DAY), ("expired-lately", now - DAY / 2), ("usable", now + DAY)]:
        await db.insert(account_tokens, digest=TokenDigest.of(name).value, user_id=alice.id, kind="password_reset",
                        email=str(alice.email), created_at=expired - DAY, expires_at=expired)
    for age in (366, 364):
        await db.insert(security_events, id=uuid.uuid4(), user_id=alice.id, type="login_succeeded",
                        at=now - age * DAY, actor="user")

    report = await db.purge(now)

    assert (report.deleted[Purgeable.NOTIFICATIONS], report.deleted[Purgeable.ACCOUNT_TOKENS],
            report.deleted[Purgeable.SECURITY_EVENTS]) == (3, 1, 1)
    async with db.engine.connect() as conn:
        kept = (await conn.execute(select(notifications.c.status).order_by(notifications.c.status))).scalars().all()
        tokens = set((await conn.execute(select(account_tokens.c.digest))).scalars().all())
    assert kept == ["delivered", "queued"]  # the queued one is never settled by age: the sweep delivers it
    assert tokens == {TokenDigest.of("expired-lately").value, TokenDigest.of("usable").value}
    assert await db.count(security_events) == 1


@pytest.mark.postgres
async def test_a_worker_that_finds_another_purging_yields(pg_engine: AsyncEngine, tmp_path: Path) -> None:
    db = Db(pg_engine, SqlUnitOfWorkFactory(pg_engine, None, Uncached(), RecordingDeliveryQueue()))
    alice = await db.user()
    for age in (400, 401):
        await db.insert(security_events, id=uuid.uuid4(), user_id=alice.id, type="login_succeeded",
                        at=T - age * DAY, actor="user")
    async with pg_engine.connect() as other_worker, other_worker.begin():
        assert await other_worker.scalar(text("SELECT pg_try_advisory_xact_lock(x'6761746570757267'::bigint)"))
        report = await db.purge(T)
        assert report.yielded
        assert not any(report.deleted.values())
    report = await db.purge(T)  # the other worker's transaction is over
    assert not report.yielded
    assert report.deleted[Purgeable.SECURITY_EVENTS] == 2
