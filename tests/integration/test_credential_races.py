"""A login that checked a password and a change of that password, interleaved on real databases: the
login's writes wait for the change and then write nothing, or the change waits for the login and then
ends the session it started. Never a session that outlives the change, never the old hash back."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from domain.errors import CredentialsChanged
from domain.notifications import Notification, NotificationKind
from domain.session import RevocationReason, Session, SessionPolicy
from domain.tokens import TokenDigest
from domain.user import Email, PasswordHash, User
from infrastructure.db.asyncpg_runner import AsyncpgRunner
from infrastructure.db.engine import create_engine
from infrastructure.db.unit_of_work import SqlUnitOfWorkFactory
from infrastructure.db.user_cache import Uncached
from tests.conftest import make_settings
from tests.fakes import RecordingDeliveryQueue

T = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
BLOCKED = 0.5  # long enough for a statement that is not blocked to have finished


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "migrated_postgres"))


@pytest_asyncio.fixture(loop_scope="session")
async def units(url: str, tmp_path: Path) -> AsyncIterator[SqlUnitOfWorkFactory]:
    """As production wires them: on Postgres the login's rows go out in one statement on asyncpg."""
    settings = make_settings(tmp_path, url, db_command_timeout=10.0)
    engine = create_engine(settings)
    runner = AsyncpgRunner(settings) if url.startswith("postgresql") else None
    yield SqlUnitOfWorkFactory(engine, runner, Uncached(), RecordingDeliveryQueue())
    if runner is not None:
        await runner.aclose()
    await engine.dispose()


async def _user(units: SqlUnitOfWorkFactory) -> User:
    user = User(id=uuid.uuid4(), email=Email.parse(f"{uuid.uuid4().hex[:10]}@example.com"),
                password_hash=PasswordHash("$argon2id$old"), full_name=None, created_at=T, updated_at=T)
    async with units() as uow:
        await uow.users.add(user)
        await uow.commit()
    return user


async def _log_in(units: SqlUnitOfWorkFactory, user: User, *, rehash: bool = False) -> Session:
    """What LogIn writes once the password checked out (against `user` as it was read)."""
    session = Session.start(id=uuid.uuid4(), user_id=user.id, token=TokenDigest.of(uuid.uuid4().hex), now=T,
                            policy=SessionPolicy(), user_agent="pytest", ip="203.0.113.9")
    async with units() as uow:
        await uow.users.require_credentials(user.id, user.credential_version)
        await uow.sessions.add(session)
        if rehash:
            user.rehash(PasswordHash("$argon2id$old-but-stronger"))
            await uow.users.rehash(user)
        await uow.notifications.add(Notification.queue(
            id=uuid.uuid4(), user_id=user.id, kind=NotificationKind.NEW_LOGIN, message="new sign-in", now=T,
            lease=timedelta(seconds=30)))
        await uow.commit()
    return session


async def _stored(units: SqlUnitOfWorkFactory, user: User) -> User:
    async with units(autocommit=True) as uow:
        stored = await uow.users.get(user.id)
    assert stored is not None
    return stored


@pytest.mark.parametrize("rehash", [False, True], ids=["login", "login with a rehash"])
async def test_a_login_whose_writes_meet_an_uncommitted_change_waits_and_writes_nothing(
        units: SqlUnitOfWorkFactory, rehash: bool) -> None:
    user = await _user(units)
    checked = await _stored(units, user)  # the login read this, then spent a while verifying
    async with units() as change:
        changed = await _stored(units, user)
        changed.change_password_hash(PasswordHash("$argon2id$new"), T)
        assert await change.users.change_password(changed, expected_version=0)
        login = asyncio.create_task(_log_in(units, checked, rehash=rehash))
        await asyncio.sleep(BLOCKED)
        assert not login.done()  # held by the change's lock
        await change.sessions.revoke_all_of_user(user.id, T, RevocationReason.PASSWORD_CHANGED)
        await change.commit()
    with pytest.raises(CredentialsChanged):
        await login
    async with units(autocommit=True) as uow:
        assert await uow.sessions.list_active(user.id, T, T - timedelta(days=1)) == []
        assert await uow.notifications.list_for_user(user.id) == []
    assert (await _stored(units, user)).password_hash == PasswordHash("$argon2id$new")


async def test_a_change_that_meets_a_login_in_progress_waits_and_then_ends_its_session(
        units: SqlUnitOfWorkFactory) -> None:
    user = await _user(units)
    checked = await _stored(units, user)
    session = Session.start(id=uuid.uuid4(), user_id=user.id, token=TokenDigest.of(uuid.uuid4().hex), now=T,
                            policy=SessionPolicy(), user_agent="pytest", ip="203.0.113.9")

    async def change() -> list[uuid.UUID]:
        async with units() as uow:
            changed = await _stored(units, user)
            changed.change_password_hash(PasswordHash("$argon2id$new"), T)
            assert await uow.users.change_password(changed, expected_version=0)
            ended = await uow.sessions.revoke_all_of_user(user.id, T, RevocationReason.PASSWORD_CHANGED)
            await uow.commit()
        return ended

    async with units() as login:  # a login (with a rehash, so its transaction is open) holds the row
        await login.users.require_credentials(user.id, checked.credential_version)
        await login.sessions.add(session)
        checked.rehash(PasswordHash("$argon2id$old-but-stronger"))
        await login.users.rehash(checked)
        changing = asyncio.create_task(change())
        await asyncio.sleep(BLOCKED)
        assert not changing.done()  # waits for the login to commit
        await login.commit()
    assert await changing == [session.id]  # and then ends the session the login started
    assert (await _stored(units, user)).password_hash == PasswordHash("$argon2id$new")
