"""The units of work against a real Postgres: races between concurrent callers, rollback, and a login's
rows held back and written in one statement. (Each statement's answers: test_statement_parity.py.)"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.notifications import Notification, NotificationKind, Recipient
from domain.session import Session, SessionPolicy
from domain.tokens import TokenDigest
from domain.user import Email, PasswordHash, User
from infrastructure.db.asyncpg_runner import AsyncpgRunner
from infrastructure.db.runners import ConstraintViolation
from infrastructure.db.unit_of_work import SqlUnitOfWorkFactory
from infrastructure.db.user_cache import Uncached
from tests.conftest import make_settings
from tests.fakes import RecordingDeliveryQueue

POLICY = SessionPolicy()


def units(engine: AsyncEngine, runner: AsyncpgRunner | None = None) -> SqlUnitOfWorkFactory:
    """Units of work as production builds them; with `runner`, autocommit ones run on the asyncpg pool."""
    return SqlUnitOfWorkFactory(engine, runner, Uncached(), RecordingDeliveryQueue())


def _now() -> datetime:
    return datetime.now(UTC)


def _user(email: str = "race@example.com") -> User:
    now = _now()
    return User(id=uuid.uuid4(), email=Email.parse(email), password_hash=PasswordHash("$argon2id$x"),
                full_name=None, created_at=now, updated_at=now)


async def _seed_session(engine: AsyncEngine, token: str = "refresh-0") -> tuple[User, Session]:
    user = _user(f"{uuid.uuid4().hex[:8]}@example.com")
    session = Session.start(id=uuid.uuid4(), user_id=user.id, token=TokenDigest.of(token), now=_now(),
                            policy=POLICY, user_agent="pytest", ip="127.0.0.1")
    async with units(engine)() as uow:
        await uow.users.add(user)
        await uow.sessions.add(session)
        await uow.commit()
    return user, session


async def test_leaving_a_unit_of_work_without_commit_writes_nothing(pg_engine: AsyncEngine) -> None:
    user = _user()
    async with units(pg_engine)() as uow:
        await uow.users.add(user)
    async with units(pg_engine)() as uow:
        assert await uow.users.get(user.id) is None


@pytest.mark.parametrize("path", ["sqlalchemy", "asyncpg"])
async def test_twenty_concurrent_rotations_of_one_token_have_exactly_one_winner(
        pg_engine: AsyncEngine, migrated_postgres: str, path: str) -> None:
    _, session = await _seed_session(pg_engine)
    presented = TokenDigest.of("refresh-0")
    runner = AsyncpgRunner(make_settings(Path("/unused"), migrated_postgres)) if path == "asyncpg" else None

    async def spend(n: int) -> bool:
        async with units(pg_engine, runner)(autocommit=runner is not None) as uow:
            now = _now()
            rotated = await uow.sessions.rotate(presented, TokenDigest.of(f"successor-{n}"), now,
                                                POLICY.idle_cutoff(now))
            await uow.commit()
            return rotated is not None

    try:
        results = await asyncio.gather(*(spend(n) for n in range(20)))
    finally:
        if runner is not None:
            await runner.aclose()
    assert sum(results) == 1
    async with units(pg_engine)() as uow:
        stored = await uow.sessions.get(session.id)
        assert stored is not None
        assert stored.previous_token == presented
        # the spent token still leads to its session (reuse detection, logout with a spent token)
        found = await uow.sessions.find_by_token(presented)
        assert found is not None
        assert found.id == session.id


async def test_two_claimers_never_take_the_same_notification(pg_engine: AsyncEngine) -> None:
    user, _ = await _seed_session(pg_engine)
    created = _now() - timedelta(minutes=5)
    ids = [uuid.uuid4() for _ in range(30)]
    async with units(pg_engine)() as uow:
        for notification_id in ids:
            await uow.notifications.add(Notification.queue(id=notification_id, user_id=user.id,
                                                           kind=NotificationKind.MESSAGE, message="hi",
                                                           now=created))
        await uow.commit()

    async def sweep() -> list[uuid.UUID]:
        claimed: list[uuid.UUID] = []
        while True:
            async with units(pg_engine)() as uow:
                now = _now()
                batch = await uow.notifications.claim_stale(now, now, now + timedelta(minutes=1), 4)
                await uow.commit()
            if not batch:
                return claimed
            claimed.extend(n.id for n in batch)

    async def claim_each() -> list[uuid.UUID]:
        won = []
        for notification_id in ids:
            async with units(pg_engine)() as uow:
                now = _now()
                if await uow.notifications.claim_for_delivery(notification_id, now, now + timedelta(minutes=1)):
                    won.append(notification_id)
                await uow.commit()
        return won

    a, b, c = await asyncio.gather(sweep(), sweep(), claim_each())
    everything = a + b + c
    assert sorted(everything) == sorted(ids)  # each one claimed, and by exactly one claimer


# --- a login's writes held back and written in one statement on the asyncpg pool ------------------

@pytest_asyncio.fixture(loop_scope="session")
async def runner(migrated_postgres: str) -> AsyncIterator[AsyncpgRunner]:
    made = AsyncpgRunner(make_settings(Path("/unused"), migrated_postgres))
    yield made
    await made.aclose()


def _login_rows(user: User) -> tuple[Session, Notification]:
    now = _now()
    session = Session.start(id=uuid.uuid4(), user_id=user.id, token=TokenDigest.of(uuid.uuid4().hex), now=now,
                            policy=POLICY, user_agent="pytest", ip="127.0.0.1")
    notification = Notification.queue(id=uuid.uuid4(), user_id=user.id, kind=NotificationKind.NEW_LOGIN,
                                      message="New sign-in", now=now)
    return session, notification


async def _stored(engine: AsyncEngine, session: Session, notification: Notification) -> tuple[bool, bool, bool]:
    async with units(engine)(autocommit=True) as uow:
        by_id = await uow.sessions.get(session.id)
        by_token = await uow.sessions.find_by_token(session.current_token)
        listed = await uow.notifications.list_for_user(notification.user_id)
    return by_id is not None, by_token is not None, any(n.id == notification.id for n in listed)


def _count_checkouts(engine: AsyncEngine) -> list[int]:
    checkouts = [0]
    event.listen(engine.sync_engine.pool, "checkout", lambda *_: checkouts.__setitem__(0, checkouts[0] + 1))
    return checkouts


async def test_a_logins_rows_are_written_together_at_commit_without_a_pooled_transaction(
        pg_engine: AsyncEngine, runner: AsyncpgRunner) -> None:
    user, _ = await _seed_session(pg_engine)
    session, notification = _login_rows(user)
    checkouts = _count_checkouts(pg_engine)
    async with units(pg_engine, runner)() as uow:
        await uow.sessions.add(session)
        await uow.notifications.add(notification)
        assert await _stored(pg_engine, session, notification) == (False, False, False)  # held back
        checkouts[0] = 0
        await uow.commit()
    assert checkouts[0] == 0
    assert await _stored(pg_engine, session, notification) == (True, True, True)


async def test_held_rows_without_a_commit_are_never_written(pg_engine: AsyncEngine, runner: AsyncpgRunner) -> None:
    user, _ = await _seed_session(pg_engine)
    session, notification = _login_rows(user)
    async with units(pg_engine, runner)() as uow:
        await uow.sessions.add(session)
        await uow.notifications.add(notification)
    assert await _stored(pg_engine, session, notification) == (False, False, False)


async def test_held_rows_go_first_into_the_transaction_when_another_statement_runs(
        pg_engine: AsyncEngine, runner: AsyncpgRunner) -> None:
    user, _ = await _seed_session(pg_engine)
    session, notification = _login_rows(user)
    async with units(pg_engine, runner)() as uow:
        await uow.sessions.add(session)
        assert await uow.sessions.get(session.id) is not None  # visible inside its own transaction
        await uow.notifications.add(notification)
    assert await _stored(pg_engine, session, notification) == (False, False, False)  # rolled back
    async with units(pg_engine, runner)() as uow:
        await uow.sessions.add(session)
        assert await uow.sessions.get(session.id) is not None
        await uow.notifications.add(notification)
        await uow.commit()
    assert await _stored(pg_engine, session, notification) == (True, True, True)


async def test_held_rows_are_all_or_nothing(pg_engine: AsyncEngine, runner: AsyncpgRunner) -> None:
    user, _ = await _seed_session(pg_engine)
    session, _ = _login_rows(user)
    _, orphan = _login_rows(_user("nobody@example.com"))  # its user was never stored: a foreign key fails
    async with units(pg_engine, runner)() as uow:
        await uow.sessions.add(session)
        await uow.notifications.add(orphan)
        with pytest.raises(ConstraintViolation):
            await uow.commit()
    assert (await _stored(pg_engine, session, orphan))[:2] == (False, False)


async def test_held_rows_that_fail_ahead_of_another_statement_are_never_reported_committed(
        pg_engine: AsyncEngine, runner: AsyncpgRunner) -> None:
    user, _ = await _seed_session(pg_engine)
    session, notification = _login_rows(user)
    orphan, _ = _login_rows(_user("nobody@example.com"))  # its user was never stored: a foreign key fails
    deliveries = RecordingDeliveryQueue()
    async with SqlUnitOfWorkFactory(pg_engine, runner, Uncached(), deliveries)() as uow:
        await uow.sessions.add(orphan)
        await uow.notifications.add(notification)
        with pytest.raises(ConstraintViolation, match="fk_sessions_user_id_users"):
            await uow.sessions.get(session.id)  # the held rows go first, and fail
        with pytest.raises(ConstraintViolation):
            await uow.commit()  # the rows are still held: written at once, they fail again
    assert deliveries.handoffs == []  # nothing committed, nothing handed to delivery
    assert not (await _stored(pg_engine, orphan, notification))[2]


async def test_concurrent_claims_on_the_asyncpg_pool_have_one_winner(
        pg_engine: AsyncEngine, runner: AsyncpgRunner) -> None:
    user, _ = await _seed_session(pg_engine)
    _, notification = _login_rows(user)
    async with units(pg_engine)() as uow:
        await uow.notifications.add(notification)
        await uow.commit()

    async def claim() -> Notification | None:
        async with units(pg_engine, runner)(autocommit=True) as uow:
            now = _now()
            claimed = await uow.notifications.claim_for_delivery(notification.id, now, now + timedelta(minutes=1))
        return claimed[0] if claimed else None

    claims = await asyncio.gather(*(claim() for _ in range(20)))
    winners = [c for c in claims if c is not None]
    assert len(winners) == 1
    assert winners[0].attempts == 1
    async with units(pg_engine, runner)(autocommit=True) as uow:
        assert await uow.notifications.recipient(notification.id) == Recipient(user.email, False)
        await uow.notifications.mark_delivered(notification.id, _now())
        assert await claim() is None  # delivered: nothing left to claim
    async with units(pg_engine)(autocommit=True) as uow:
        (stored,) = [n for n in await uow.notifications.list_for_user(user.id) if n.id == notification.id]
    assert stored.status.value == "delivered"


@pytest.mark.parametrize("path", ["sqlalchemy", "asyncpg"])
async def test_a_claim_for_delivery_hands_over_the_recipient_to_one_claimer(
        pg_engine: AsyncEngine, runner: AsyncpgRunner, path: str) -> None:
    user, _ = await _seed_session(pg_engine)
    _, notification = _login_rows(user)
    async with units(pg_engine)() as uow:
        await uow.notifications.add(notification)
        await uow.commit()
    on = runner if path == "asyncpg" else None

    async def claim() -> tuple[Notification, Recipient | None] | None:
        async with units(pg_engine, on)(autocommit=True) as uow:
            now = _now()
            return await uow.notifications.claim_for_delivery(notification.id, now, now + timedelta(minutes=1))

    claims = [c for c in await asyncio.gather(*(claim() for _ in range(10))) if c is not None]
    assert len(claims) == 1
    claimed, recipient = claims[0]
    assert claimed.id == notification.id
    assert claimed.attempts == 1
    assert recipient == Recipient(user.email, False)
