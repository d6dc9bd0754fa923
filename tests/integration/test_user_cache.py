"""The per-worker account cache on Postgres: served from memory, dropped by any change, off when deaf."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import asyncpg
import pytest
import pytest_asyncio
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.user import Email, PasswordHash, User
from infrastructure.db.unit_of_work import SqlUnitOfWorkFactory
from infrastructure.db.user_cache import Uncached, UserCache
from tests.fakes import RecordingDeliveryQueue


def units(engine: AsyncEngine, cache: UserCache | None = None) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(engine, None, cache or Uncached(), RecordingDeliveryQueue())


def _dsn(engine: AsyncEngine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


@pytest_asyncio.fixture(loop_scope="session")
async def cache(pg_engine: AsyncEngine) -> AsyncIterator[UserCache]:
    cache = UserCache(_dsn(pg_engine), ttl_seconds=60, connect_timeout=5)  # only invalidation can evict
    yield cache
    await cache.aclose()


async def _add_user(engine: AsyncEngine, name: str | None = None) -> User:
    now = datetime.now(UTC)
    user = User(id=uuid.uuid4(), email=Email.parse(f"{uuid.uuid4().hex[:10]}@example.com"),
                password_hash=PasswordHash("$argon2id$x"), full_name=name, created_at=now, updated_at=now)
    async with units(engine)() as uow:
        await uow.users.add(user)
        await uow.commit()
    return user


class CountingLoader:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.loads = 0

    async def __call__(self, user_id: uuid.UUID) -> User | None:
        self.loads += 1
        async with units(self.engine)(autocommit=True) as uow:
            return await uow.users.get(user_id)


async def _operator_sql(engine: AsyncEngine, statement: str, *args: object) -> None:
    """A write that bypasses Gatehouse entirely (another worker, an operator at psql)."""
    conn = await asyncpg.connect(_dsn(engine))
    try:
        await conn.execute(statement, *args)
    finally:
        await conn.close()


async def _eventually(check: Callable[[], Awaitable[bool]], seconds: float = 5.0) -> bool:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


async def test_a_row_read_once_is_served_from_memory_as_a_copy(pg_engine: AsyncEngine, cache: UserCache) -> None:
    user = await _add_user(pg_engine, "Ada")
    load = CountingLoader(pg_engine)
    first = await cache.get(user.id, load)
    first.rename("Mutated By Caller", datetime.now(UTC))  # type: ignore[union-attr]
    second = await cache.get(user.id, load)
    assert load.loads == 1
    assert second is not None
    assert second.full_name == "Ada"


async def test_any_committed_update_or_delete_drops_the_row(pg_engine: AsyncEngine, cache: UserCache) -> None:
    user = await _add_user(pg_engine, "Before")
    load = CountingLoader(pg_engine)
    await cache.get(user.id, load)
    await _operator_sql(pg_engine, "UPDATE users SET full_name = 'After' WHERE id = $1", user.id)

    async def renamed() -> bool:
        current = await cache.get(user.id, load)
        return current is not None and current.full_name == "After"

    assert await _eventually(renamed)
    await _operator_sql(pg_engine, "DELETE FROM users WHERE id = $1", user.id)

    async def gone() -> bool:
        return await cache.get(user.id, load) is None

    assert await _eventually(gone)


async def test_a_write_through_this_worker_is_dropped_at_commit(
        pg_engine: AsyncEngine, cache: UserCache, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "_on_notification", lambda *_: None)  # only the unit of work can drop it
    user = await _add_user(pg_engine, "Old Name")
    load = CountingLoader(pg_engine)
    await cache.get(user.id, load)
    async with units(pg_engine, cache)() as uow:
        changed = await uow.users.get(user.id)
        assert changed is not None
        changed.rename("New Name", datetime.now(UTC))
        await uow.users.rename(changed)
        await uow.commit()
    # No waiting for the notification: the unit of work dropped this worker's copy itself.
    assert (await cache.get(user.id, load)).full_name == "New Name"  # type: ignore[union-attr]


async def test_a_load_overtaken_by_a_change_is_not_kept(pg_engine: AsyncEngine, cache: UserCache) -> None:
    user = await _add_user(pg_engine, "Racing")
    load = CountingLoader(pg_engine)

    async def load_then_change_arrives(user_id: uuid.UUID) -> User | None:
        row = await load(user_id)
        cache.forget(user_id)  # a change notification landing while the row was on its way
        return row

    await cache.get(user.id, load_then_change_arrives)
    await cache.get(user.id, load)
    assert load.loads == 2  # the first, possibly stale, row was not stored


async def test_without_its_listening_connection_the_cache_serves_nothing(
        pg_engine: AsyncEngine, cache: UserCache) -> None:
    user = await _add_user(pg_engine, "Listened")
    load = CountingLoader(pg_engine)
    await cache.get(user.id, load)
    assert cache.listening()
    await _operator_sql(pg_engine, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                   "WHERE application_name = 'gatehouse-listen' AND datname = current_database()")

    async def deaf() -> bool:
        return not cache.listening()

    assert await _eventually(deaf)
    # A change made while no one listened: the cached row must not be served afterwards.
    await _operator_sql(pg_engine, "UPDATE users SET full_name = 'Unheard' WHERE id = $1", user.id)
    assert (await cache.get(user.id, load)).full_name == "Unheard"  # type: ignore[union-attr]
    assert cache.listening()  # the read listened again first (the server is up)
    loads = load.loads
    await cache.get(user.id, load)
    assert load.loads == loads


async def test_a_cache_that_cannot_listen_keeps_nothing(pg_engine: AsyncEngine) -> None:
    user = await _add_user(pg_engine, "Uncached")
    load = CountingLoader(pg_engine)
    unreachable = make_url(_dsn(pg_engine)).set(port=1).render_as_string(hide_password=False)
    deaf = UserCache(unreachable, ttl_seconds=60, connect_timeout=1)
    try:
        for _ in range(3):
            assert (await deaf.get(user.id, load)).full_name == "Uncached"  # type: ignore[union-attr]
        assert load.loads == 3
        assert not deaf.listening()
    finally:
        await deaf.aclose()


async def test_without_the_trigger_nothing_is_cached(pg_engine: AsyncEngine) -> None:
    user = await _add_user(pg_engine, "Unmigrated")
    load = CountingLoader(pg_engine)
    await _operator_sql(pg_engine, "DROP TRIGGER users_changed ON users")  # as if 0002 never ran
    try:
        unmigrated = UserCache(_dsn(pg_engine), ttl_seconds=60, connect_timeout=5)
        try:
            for _ in range(3):
                await unmigrated.get(user.id, load)
            assert load.loads == 3
            assert not unmigrated.listening()
        finally:
            await unmigrated.aclose()
    finally:
        await _operator_sql(pg_engine, "CREATE TRIGGER users_changed AFTER UPDATE OR DELETE ON users "
                                       "FOR EACH ROW EXECUTE FUNCTION gatehouse_user_changed()")
