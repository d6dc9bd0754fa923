"""Every repository statement, refusals included, on each way it runs: SQLite, Postgres through a
SQLAlchemy connection, and Postgres on the asyncpg pool (the autocommit path in production).

The statements are written once (infrastructure/db/statements.py); these tests hold the two runners
to the same answers, and the SQL liveness rule to the domain's `Session.is_active`.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine

from application.unit_of_work import UnitOfWork
from domain.errors import CredentialsChanged, EmailTaken
from domain.items import Item
from domain.notifications import Notification, NotificationKind, NotificationStatus, Recipient
from domain.session import RevocationReason, Session, SessionPolicy
from domain.tokens import TokenDigest
from domain.user import AccountStatus, Email, PasswordHash, User
from infrastructure.db.asyncpg_runner import AsyncpgRunner
from infrastructure.db.engine import create_engine
from infrastructure.db.unit_of_work import SqlUnitOfWorkFactory
from infrastructure.db.user_cache import Uncached
from tests.conftest import make_settings
from tests.fakes import RecordingDeliveryQueue

POLICY = SessionPolicy()
T = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)  # every row and check at fixed instants: exact comparisons


@dataclass
class Db:
    """One way the statements run; `db()` is an autocommit unit of work (the asyncpg pool on that path)."""

    name: str
    units: SqlUnitOfWorkFactory

    def __call__(self, *, autocommit: bool = True) -> UnitOfWork:
        return self.units(autocommit=autocommit)


@pytest.fixture(params=[
    "sqlite",
    pytest.param("postgres via SQLAlchemy", marks=pytest.mark.postgres),
    pytest.param("postgres via asyncpg", marks=pytest.mark.postgres),
])
def backing(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, AsyncEngine | None, str]:
    """(path, the Postgres engine or None for SQLite, the database URL), resolved outside the event loop."""
    if request.param == "sqlite":
        return request.param, None, str(request.getfixturevalue("sqlite_url"))
    return request.param, request.getfixturevalue("pg_engine"), str(request.getfixturevalue("migrated_postgres"))


@pytest_asyncio.fixture(loop_scope="session")
async def db(backing: tuple[str, AsyncEngine | None, str], tmp_path: Path) -> AsyncIterator[Db]:
    name, pg_engine, url = backing
    settings = make_settings(tmp_path, url)
    engine = pg_engine or create_engine(settings)
    runner = AsyncpgRunner(settings) if name.endswith("asyncpg") else None
    yield Db(name, SqlUnitOfWorkFactory(engine, runner, Uncached(), RecordingDeliveryQueue()))
    if runner is not None:
        await runner.aclose()
    if pg_engine is None:
        await engine.dispose()



def _user(email: str | None = None) -> User:
    return User(id=uuid.uuid4(), email=Email.parse(email or f"{uuid.uuid4().hex[:10]}@example.com"),
                password_hash=PasswordHash("$argon2id$stored"), full_name="Ada", created_at=T, updated_at=T)


def _session(user: User, token: str, *, at: datetime = T) -> Session:
    return Session.start(id=uuid.uuid4(), user_id=user.id, token=TokenDigest.of(token), now=at, policy=POLICY,
                         user_agent="pytest", ip="203.0.113.9")


async def _stored_user(db: Db) -> User:
    user = _user()
    async with db(autocommit=False) as uow:
        await uow.users.add(user)
        await uow.commit()
    return user


async def _stored_session(db: Db, user: User, token: str, *, at: datetime = T) -> Session:
    session = _session(user, token, at=at)
    async with db(autocommit=False) as uow:
        await uow.sessions.add(session)
        await uow.commit()
    return session


# -- users -----------------------------------------------------------------------------------------


async def test_an_account_is_stored_found_by_id_and_email_and_updated(db: Db) -> None:
    user = await _stored_user(db)
    async with db() as uow:
        assert await uow.users.get(user.id) == user
        assert await uow.users.get_by_email(user.email) == user
        assert await uow.users.get_profile(user.id) == user
        assert await uow.users.get(uuid.uuid4()) is None
        assert await uow.users.get_by_email(Email.parse("nobody@example.com")) is None
    user.rename("Ada Lovelace", T + timedelta(minutes=1))
    user.change_password_hash(PasswordHash("$argon2id$new"), T + timedelta(minutes=1))
    async with db() as uow:
        await uow.users.rename(user)
        assert await uow.users.change_password(user, expected_version=0)
        await uow.commit()
        assert await uow.users.get(user.id) == user
        assert user.credential_version == 1


async def test_a_rename_and_a_password_change_from_one_stale_read_both_stay(db: Db) -> None:
    user = await _stored_user(db)
    renamed, changed = await _read(db, user), await _read(db, user)
    changed.change_password_hash(PasswordHash("$argon2id$new"), T + timedelta(minutes=1))
    renamed.rename("Ada Lovelace", T + timedelta(minutes=2))
    async with db(autocommit=False) as uow:
        assert await uow.users.change_password(changed, expected_version=0)
        await uow.commit()
    async with db(autocommit=False) as uow:
        await uow.users.rename(renamed)  # its copy still has the old hash: only the name is written
        await uow.commit()
    stored = await _read(db, user)
    assert (stored.full_name, stored.password_hash, stored.credential_version) == (
        "Ada Lovelace", PasswordHash("$argon2id$new"), 1)


async def test_a_password_change_from_a_stale_version_and_a_stale_rehash_write_nothing(db: Db) -> None:
    user = await _stored_user(db)
    first, late = await _read(db, user), await _read(db, user)
    first.change_password_hash(PasswordHash("$argon2id$first"), T)
    async with db() as uow:
        assert await uow.users.change_password(first, expected_version=0)
        late.change_password_hash(PasswordHash("$argon2id$late"), T)
        assert not await uow.users.change_password(late, expected_version=0)
        stale = await _read(db, user)
        stale.credential_version = 0
        stale.rehash(PasswordHash("$argon2id$stronger-old"))
        await uow.users.rehash(stale)
    assert (await _read(db, user)).password_hash == PasswordHash("$argon2id$first")


async def test_writes_that_require_the_credentials_read_happen_while_they_hold(db: Db) -> None:
    user = await _stored_user(db)
    session = _session(user, f"rt-{uuid.uuid4()}")
    async with db(autocommit=False) as uow:
        await uow.users.require_credentials(user.id, 0)
        await uow.sessions.add(session)
        await uow.commit()
    async with db() as uow:
        assert await uow.sessions.get(session.id) is not None


@pytest.mark.parametrize("then_update", [False, True], ids=["inserts only", "with an update after"])
async def test_writes_that_require_changed_credentials_write_nothing(db: Db, then_update: bool) -> None:
    user = await _stored_user(db)
    changed = await _read(db, user)
    changed.change_password_hash(PasswordHash("$argon2id$new"), T)
    async with db() as uow:
        assert await uow.users.change_password(changed, expected_version=0)
    session = _session(user, f"rt-{uuid.uuid4()}")

    async def log_in_with_the_old_credentials() -> None:
        async with db(autocommit=False) as uow:
            await uow.users.require_credentials(user.id, 0)
            await uow.sessions.add(session)
            await uow.notifications.add(Notification.queue(
                id=uuid.uuid4(), user_id=user.id, kind=NotificationKind.NEW_LOGIN, message="hi", now=T,
                lease=timedelta(seconds=30)))
            if then_update:
                stale = await _read(db, user)
                stale.credential_version = 0
                stale.rehash(PasswordHash("$argon2id$stronger-old"))
                await uow.users.rehash(stale)
            await uow.commit()

    with pytest.raises(CredentialsChanged):
        await log_in_with_the_old_credentials()
    async with db() as uow:
        assert await uow.sessions.get(session.id) is None
        assert await uow.notifications.list_for_user(user.id) == []
    assert (await _read(db, user)).password_hash == PasswordHash("$argon2id$new")


async def _read(db: Db, user: User) -> User:
    async with db() as uow:
        stored = await uow.users.get(user.id)
    assert stored is not None
    return stored


async def test_a_second_account_with_the_same_email_is_refused(db: Db) -> None:
    user = await _stored_user(db)
    async with db() as uow:
        with pytest.raises(EmailTaken):
            await uow.users.add(_user(user.email.value))


# -- sessions --------------------------------------------------------------------------------------


async def test_a_session_is_found_by_id_and_by_its_token(db: Db) -> None:
    session = await _stored_session(db, await _stored_user(db), "t-0")
    async with db() as uow:
        assert await uow.sessions.get(session.id) == session
        assert await uow.sessions.find_by_token(TokenDigest.of("t-0")) == session
        assert await uow.sessions.get(uuid.uuid4()) is None
        assert await uow.sessions.find_by_token(TokenDigest.of("never issued")) is None


async def test_a_rotation_spends_the_live_token_and_remembers_the_successor(db: Db) -> None:
    user = await _stored_user(db)
    session = await _stored_session(db, user, "t-0")
    user.set_roles(("support", "admin"), T)
    async with db(autocommit=False) as uow:
        await uow.users.set_roles(user)
        await uow.commit()
    now = T + timedelta(hours=1)
    async with db() as uow:
        result = await uow.sessions.rotate(TokenDigest.of("t-0"), TokenDigest.of("t-1"), now, POLICY.idle_cutoff(now))
    assert result is not None
    rotated, roles = result
    assert roles == ("admin", "support")  # the owner's roles as they are now, read by the rotation itself
    assert (rotated.id, rotated.current_token, rotated.previous_token) == (session.id, TokenDigest.of("t-1"),
                                                                           TokenDigest.of("t-0"))
    assert (rotated.rotated_at, rotated.last_used_at, rotated.created_at) == (now, now, T)
    async with db() as uow:
        assert await uow.sessions.get(session.id) == rotated
        found = await uow.sessions.find_by_token(TokenDigest.of("t-1"))
        spent = await uow.sessions.find_by_token(TokenDigest.of("t-0"))
    assert found is not None
    assert spent is not None
    assert found.id == spent.id == session.id  # the spent token still leads to its session


@pytest.mark.parametrize("refusal", ["spent token", "unknown token", "revoked", "idle", "past absolute expiry"])
async def test_a_rotation_is_refused_and_changes_nothing(db: Db, refusal: str) -> None:
    user = await _stored_user(db)
    session = await _stored_session(db, user, "t-0")
    now = T + timedelta(minutes=1)
    presented = TokenDigest.of("t-0")
    if refusal == "spent token":
        async with db() as uow:
            await uow.sessions.rotate(presented, TokenDigest.of("t-1"), now, POLICY.idle_cutoff(now))
    elif refusal == "unknown token":
        presented = TokenDigest.of("never issued")
    elif refusal == "revoked":
        async with db() as uow:
            assert await uow.sessions.revoke(session.id, now, RevocationReason.LOGOUT)
    elif refusal == "idle":
        now = T + POLICY.idle_timeout  # last used exactly one idle timeout ago: ended
    else:
        now = session.absolute_expires_at
    async with db() as uow:
        before = await uow.sessions.get(session.id)
        assert await uow.sessions.rotate(presented, TokenDigest.of("t-2"), now, POLICY.idle_cutoff(now)) is None
        assert await uow.sessions.get(session.id) == before
        assert await uow.sessions.find_by_token(TokenDigest.of("t-2")) is None


async def test_the_sql_liveness_rule_is_the_domains(db: Db) -> None:
    """list_active and rotate keep exactly the sessions `Session.is_active` calls live, at the boundaries."""
    user = await _stored_user(db)
    now = T + timedelta(days=40)
    sessions = [
        await _stored_session(db, user, "fresh", at=now - timedelta(hours=1)),
        await _stored_session(db, user, "idle-1us-short", at=now - POLICY.idle_timeout + timedelta(microseconds=1)),
        await _stored_session(db, user, "idle-exactly", at=now - POLICY.idle_timeout),
        await _stored_session(db, user, "absolute-exactly", at=now - POLICY.absolute_lifetime),
        await _stored_session(db, user, "revoked", at=now - timedelta(hours=2)),
    ]
    async with db() as uow:
        await uow.sessions.touch(sessions[3].id, now - timedelta(hours=1))  # expired by its absolute lifetime only
        await uow.sessions.revoke(sessions[-1].id, now - timedelta(minutes=1), RevocationReason.LOGOUT)
        stored = [s for s in [await uow.sessions.get(s.id) for s in sessions] if s is not None]
        listed = await uow.sessions.list_active(user.id, now, POLICY.idle_cutoff(now))
    expected = [s.id for s in stored if s.is_active(now, POLICY)]
    assert len(expected) == 2
    assert sorted(s.id for s in listed) == sorted(expected)
    rotatable = []
    for session, token in zip(stored, ["fresh", "idle-1us-short", "idle-exactly", "absolute-exactly", "revoked"],
                              strict=True):
        async with db() as uow:
            if await uow.sessions.rotate(TokenDigest.of(token), TokenDigest.of(f"{token}+"), now,
                                         POLICY.idle_cutoff(now)):
                rotatable.append(session.id)
    assert sorted(rotatable) == sorted(expected)


async def test_live_sessions_are_listed_most_recently_used_first_and_only_the_users_own(db: Db) -> None:
    user, other = await _stored_user(db), await _stored_user(db)
    older = await _stored_session(db, user, "older", at=T)
    newer = await _stored_session(db, user, "newer", at=T + timedelta(minutes=5))
    await _stored_session(db, other, "theirs", at=T)
    now = T + timedelta(hours=1)
    async with db() as uow:
        listed = await uow.sessions.list_active(user.id, now, POLICY.idle_cutoff(now))
    assert [s.id for s in listed] == [newer.id, older.id]


async def test_touching_a_session_moves_its_last_use(db: Db) -> None:
    session = await _stored_session(db, await _stored_user(db), "t-0")
    async with db() as uow:
        await uow.sessions.touch(session.id, T + timedelta(minutes=3))
        stored = await uow.sessions.get(session.id)
    assert stored is not None
    assert stored.last_used_at == T + timedelta(minutes=3)


async def test_revoking_ends_a_session_once_and_records_when_and_why(db: Db) -> None:
    session = await _stored_session(db, await _stored_user(db), "t-0")
    async with db() as uow:
        assert await uow.sessions.revoke(session.id, T + timedelta(minutes=1), RevocationReason.REFRESH_TOKEN_REUSE)
        assert not await uow.sessions.revoke(session.id, T + timedelta(minutes=2), RevocationReason.LOGOUT)
        assert not await uow.sessions.revoke(uuid.uuid4(), T, RevocationReason.LOGOUT)
        stored = await uow.sessions.get(session.id)
    assert stored is not None
    assert (stored.revoked_at, stored.revoked_reason) == (T + timedelta(minutes=1), "refresh_token_reuse")


@pytest.mark.parametrize("keep", [True, False])
async def test_revoking_all_sessions_of_a_user_ends_the_live_ones_and_may_keep_one(db: Db, keep: bool) -> None:
    user, other = await _stored_user(db), await _stored_user(db)
    first, second = await _stored_session(db, user, "a"), await _stored_session(db, user, "b")
    ended_before = await _stored_session(db, user, "c")
    theirs = await _stored_session(db, other, "d")
    async with db() as uow:
        await uow.sessions.revoke(ended_before.id, T, RevocationReason.LOGOUT)
        ended = await uow.sessions.revoke_all_of_user(user.id, T + timedelta(minutes=1),
                                                      RevocationReason.PASSWORD_CHANGED,
                                                      keep=first.id if keep else None)
        assert sorted(ended) == sorted([second.id] if keep else [first.id, second.id])
        untouched = await uow.sessions.get(theirs.id)
        stored = await uow.sessions.get(ended_before.id)
    assert untouched is not None
    assert untouched.revoked_at is None
    assert stored is not None
    assert stored.revoked_reason == "logout"  # an ended session keeps the reason it ended for


# -- items -----------------------------------------------------------------------------------------


def _item(owner: User, n: int) -> Item:
    at = T + timedelta(minutes=n)
    return Item(id=uuid.uuid4(), owner_id=owner.id, title=f"item {n}", description=None, created_at=at,
                updated_at=at)


async def test_items_are_their_owners_only(db: Db) -> None:
    alice, bob = await _stored_user(db), await _stored_user(db)
    item = _item(alice, 1)
    async with db() as uow:
        await uow.items.add(item)
        assert await uow.items.get_owned(item.id, alice.id) == item
        assert await uow.items.get_owned(item.id, bob.id) is None
        assert not await uow.items.delete_owned(item.id, bob.id)
        item.edit(now=T + timedelta(hours=1), title="renamed", description="text", set_description=True)
        await uow.items.update(item)
        assert await uow.items.get_owned(item.id, alice.id) == item
        assert await uow.items.delete_owned(item.id, alice.id)
        assert not await uow.items.delete_owned(item.id, alice.id)
        assert await uow.items.get_owned(item.id, alice.id) is None


async def test_items_come_in_pages_newest_first_with_the_total(db: Db) -> None:
    alice, bob = await _stored_user(db), await _stored_user(db)
    mine = [_item(alice, n) for n in range(5)]
    async with db() as uow:
        for item in [*mine, _item(bob, 9)]:
            await uow.items.add(item)
        page = await uow.items.page(alice.id, 2, 1)
        empty = await uow.items.page(alice.id, 10, 5)
    assert [i.id for i in page.items] == [mine[3].id, mine[2].id]
    assert (page.total, empty.items, empty.total) == (5, [], 5)


# -- notifications ---------------------------------------------------------------------------------


def _notification(user: User, *, at: datetime = T, lease: timedelta | None = None) -> Notification:
    return Notification.queue(id=uuid.uuid4(), user_id=user.id, kind=NotificationKind.MESSAGE, message="hi",
                              now=at, lease=lease)


async def _stored_notification(db: Db, user: User, *, at: datetime = T,
                               lease: timedelta | None = None) -> Notification:
    notification = _notification(user, at=at, lease=lease)
    async with db(autocommit=False) as uow:
        await uow.notifications.add(notification)
        await uow.commit()
    return notification


async def test_notifications_are_listed_newest_first_per_user(db: Db) -> None:
    user, other = await _stored_user(db), await _stored_user(db)
    first = await _stored_notification(db, user, at=T)
    second = await _stored_notification(db, user, at=T + timedelta(seconds=1))
    await _stored_notification(db, other)
    async with db() as uow:
        assert await uow.notifications.list_for_user(user.id) == [second, first]


async def test_a_free_notification_is_claimed_once_with_its_recipient(db: Db) -> None:
    user = await _stored_user(db)
    notification = await _stored_notification(db, user)
    now = T + timedelta(seconds=1)
    async with db() as uow:
        claimed = await uow.notifications.claim_for_delivery(notification.id, now, now + timedelta(seconds=30))
        again = await uow.notifications.claim_for_delivery(notification.id, now, now + timedelta(seconds=30))
        unknown = await uow.notifications.claim_for_delivery(uuid.uuid4(), now, now + timedelta(seconds=30))
    assert claimed is not None
    assert (claimed[0].attempts, claimed[0].claimed_until, claimed[1]) == (1, now + timedelta(seconds=30),
                                                                               Recipient(user.email, False))
    assert again is None  # lease held
    assert unknown is None


async def test_a_held_lease_is_renewed_only_by_its_holder_and_without_another_attempt(db: Db) -> None:
    user = await _stored_user(db)
    notification = await _stored_notification(db, user, lease=timedelta(seconds=30))
    held = notification.claimed_until
    assert held is not None
    now = T + timedelta(seconds=5)
    async with db() as uow:
        assert await uow.notifications.claim_for_delivery(notification.id, now, now + timedelta(minutes=1)) is None
        assert await uow.notifications.claim_for_delivery(notification.id, now, now + timedelta(minutes=1),
                                                          held - timedelta(microseconds=1)) is None
        renewed = await uow.notifications.claim_for_delivery(notification.id, now, now + timedelta(minutes=1), held)
        stale = await uow.notifications.claim_for_delivery(notification.id, now, now + timedelta(minutes=2), held)
    assert renewed is not None
    assert (renewed[0].attempts, renewed[0].claimed_until) == (1, now + timedelta(minutes=1))
    assert stale is None  # that lease is no longer the one held


async def test_the_sweep_claims_old_free_notifications_up_to_its_limit(db: Db) -> None:
    user = await _stored_user(db)
    old = [await _stored_notification(db, user, at=T + timedelta(seconds=n)) for n in range(3)]
    leased = await _stored_notification(db, user, at=T, lease=timedelta(minutes=5))
    await _stored_notification(db, user, at=T + timedelta(minutes=10))  # too recent
    now = T + timedelta(minutes=1)
    async with db() as uow:
        first = await uow.notifications.claim_stale(T + timedelta(minutes=5), now, now + timedelta(seconds=30), 2)
        rest = await uow.notifications.claim_stale(T + timedelta(minutes=5), now, now + timedelta(seconds=30), 10)
    assert [n.id for n in first] == [old[0].id, old[1].id]
    assert [n.id for n in rest] == [old[2].id]
    assert all(n.attempts == 1 and n.claimed_until == now + timedelta(seconds=30) for n in first + rest)
    assert leased.id not in {n.id for n in first + rest}


async def test_delivered_and_failed_notifications_are_claimed_no_more(db: Db) -> None:
    user = await _stored_user(db)
    delivered, failed, retried = [await _stored_notification(db, user) for _ in range(3)]
    now = T + timedelta(seconds=1)
    async with db() as uow:
        await uow.notifications.mark_delivered(delivered.id, now)
        await uow.notifications.mark_attempt_failed(failed.id, "RuntimeError: no", True, now)
        await uow.notifications.mark_attempt_failed(retried.id, "RuntimeError: later", False,
                                                    now + timedelta(seconds=2))
        by_id = {n.id: n for n in await uow.notifications.list_for_user(user.id)}
        claims = [await uow.notifications.claim_for_delivery(n.id, now + timedelta(seconds=1),
                                                             now + timedelta(minutes=1))
                  for n in (delivered, failed, retried)]
        retry = await uow.notifications.claim_for_delivery(retried.id, now + timedelta(seconds=2),
                                                           now + timedelta(minutes=1))
    assert (by_id[delivered.id].status, by_id[delivered.id].delivered_at) == (NotificationStatus.DELIVERED, now)
    assert (by_id[failed.id].status, by_id[failed.id].last_error) == (NotificationStatus.FAILED, "RuntimeError: no")
    assert (by_id[retried.id].status, by_id[retried.id].claimed_until) == (NotificationStatus.QUEUED,
                                                                           now + timedelta(seconds=2))
    assert claims == [None, None, None]  # done, or its retry time not reached
    assert retry is not None  # … and claimable once it is


async def test_the_recipient_of_a_notification_is_its_users_address(db: Db) -> None:
    user = await _stored_user(db)
    notification = await _stored_notification(db, user)
    async with db() as uow:
        assert await uow.notifications.recipient(notification.id) == Recipient(user.email, False)
        assert await uow.notifications.recipient(uuid.uuid4()) is None


def test_the_tables_use_only_column_types_the_asyncpg_path_needs_no_result_processing_for() -> None:
    """AsyncpgRunner hands rows on as asyncpg decodes them (no SQLAlchemy result processors): right for
    these types, whose values asyncpg returns as SQLAlchemy would. A new type (an Enum, JSON, Numeric…)
    must be checked on both paths before it is added here."""
    from sqlalchemy import Boolean, Integer, String, Text, Uuid

    from infrastructure.db.tables import UTCDateTime, metadata

    allowed = (Uuid, String, Text, Integer, Boolean, UTCDateTime)  # Boolean: asyncpg returns bool, as SQLAlchemy
    odd = [f"{table.name}.{column.name}: {type(column.type).__name__}"
           for table in metadata.tables.values() for column in table.columns if not isinstance(column.type, allowed)]
    assert odd == []


async def test_sessions_beyond_the_newest_few_are_ended_and_named(db: Db) -> None:
    user, other = await _stored_user(db), await _stored_user(db)
    sessions = [await _stored_session(db, user, f"rt-{uuid.uuid4()}", at=T + timedelta(minutes=n)) for n in range(5)]
    others = await _stored_session(db, other, f"rt-{uuid.uuid4()}")
    now = T + timedelta(hours=1)
    async with db() as uow:
        cutoff = POLICY.idle_cutoff(now)
        assert [await uow.sessions.has_live_beyond(user.id, keep, now, cutoff) for keep in (4, 5)] == [True, False]
        ended = await uow.sessions.revoke_beyond(user.id, 2, now, POLICY.idle_cutoff(now),
                                                 RevocationReason.SESSION_LIMIT)
        assert not await uow.sessions.has_live_beyond(user.id, 2, now, cutoff)
        assert set(ended) == {s.id for s in sessions[:3]}
        live = await uow.sessions.list_active(user.id, now, POLICY.idle_cutoff(now))
        assert [s.id for s in live] == [sessions[4].id, sessions[3].id]
        assert (await uow.sessions.get(sessions[0].id)).revoked_reason == "session_limit"  # type: ignore[union-attr]
        assert await uow.sessions.revoke_beyond(user.id, 2, now, POLICY.idle_cutoff(now),
                                                RevocationReason.SESSION_LIMIT) == []
        assert (await uow.sessions.get(others.id)).revoked_at is None  # type: ignore[union-attr]


async def test_the_active_admin_count_is_the_domains_rule(db: Db) -> None:
    """COUNT_ACTIVE_ADMINS (the partial index's predicate in SQL) counts exactly `User.is_active_admin`."""
    shapes = [(("admin",), AccountStatus.ACTIVE), (("admin", "support"), AccountStatus.ACTIVE),
              (("admin",), AccountStatus.DISABLED), (("administrator",), AccountStatus.ACTIVE),
              (("sub.admin", "admin_x"), AccountStatus.ACTIVE), ((), AccountStatus.ACTIVE)]
    async with db() as uow:  # the run's Postgres database holds other tests' accounts too
        before = await uow.users.count_active_admins(besides=uuid.uuid4())
    stored = []
    for roles, status in shapes:
        user = dataclasses.replace(_user(), roles=roles, status=status)
        async with db(autocommit=False) as uow:
            await uow.users.add(user)
            await uow.commit()
        stored.append(user)
    async with db() as uow:
        for user in stored:
            expected = before + sum(1 for other in stored if other.is_active_admin and other.id != user.id)
            assert await uow.users.count_active_admins(besides=user.id) == expected, user.roles
