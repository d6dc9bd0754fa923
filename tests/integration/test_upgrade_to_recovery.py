"""Upgrading a database created by the previous release (schema 0006, with accounts, sessions, items and
notifications in it) to this one: nothing is lost, existing accounts start unverified, and they can log in,
read their history and recover their account."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import argon2
import pytest
import sqlalchemy as sa

from infrastructure.db.engine import create_engine
from infrastructure.db.migrate import downgrade, upgrade
from infrastructure.db.tables import items, notifications, sessions, users
from tests.api.helpers import PASSWORD, assert_problem, login
from tests.api.mailbox import Mailbox
from tests.conftest import client_for, make_settings


async def _previous_release_with_data(url: str, tmp_path: Path) -> str:
    """The previous release's schema (0006) with one account and what it owns; its email."""
    engine = create_engine(make_settings(tmp_path, url))
    email = f"old-{uuid.uuid4().hex[:8]}@example.com"
    user_id, now = uuid.uuid4(), datetime.now(UTC)
    hashed = argon2.PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    try:
        await upgrade(engine)
        await downgrade(engine, "0006")
        async with engine.begin() as conn:
            await conn.execute(sa.insert(users).values(
                id=user_id, email=email, password_hash=hashed, full_name="Old Timer", created_at=now,
                updated_at=now, credential_version=3))
            await conn.execute(sa.insert(sessions).values(
                id=uuid.uuid4(), user_id=user_id, created_at=now, last_used_at=now,
                absolute_expires_at=now + timedelta(days=30), current_token="a" * 64))
            await conn.execute(sa.insert(items).values(id=uuid.uuid4(), owner_id=user_id, title="kept",
                                                       created_at=now, updated_at=now))
            await conn.execute(sa.insert(notifications).values(
                id=uuid.uuid4(), user_id=user_id, kind="new_login", message="from the old release",
                status="delivered", created_at=now, delivered_at=now, attempts=1))
        await upgrade(engine)
    finally:
        await engine.dispose()
    return email


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "data" / "gatehouse.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite+aiosqlite:///{path}"
    return str(request.getfixturevalue("empty_postgres"))


async def test_an_upgraded_database_keeps_its_data_and_its_accounts_can_recover(
        fresh_database: str, tmp_path: Path) -> None:
    email = await _previous_release_with_data(fresh_database, tmp_path)
    from api.app import create_app
    from api.container import Container

    settings = make_settings(tmp_path, fresh_database, auto_migrate=False)
    container = Container(settings=settings)
    app = create_app(settings, container=container, access_log=False)
    lifespan = app.router.lifespan_context(app)
    await lifespan.__aenter__()
    try:
        async with client_for(app) as client:
            tokens = await login(client, email)
            auth = {"Authorization": f"Bearer {tokens['access_token']}"}
            me = (await client.get("/users/me", headers=auth)).json()
            assert (me["full_name"], me["email_verified"], me["roles"]) == ("Old Timer", False, [])
            assert [i["title"] for i in (await client.get("/items/", headers=auth)).json()["items"]] == ["kept"]
            listed = (await client.get("/notifications", headers=auth)).json()
            assert {"from the old release"} <= {n["message"] for n in listed}
            assert len((await client.get("/auth/sessions", headers=auth)).json()) == 2  # the old one and this
            assert (await client.post("/auth/password-reset", json={"email": email})).status_code == 202
            token = Mailbox(tmp_path / "data" / "notifications.log").token(email, "password_reset")
            confirmed = await client.post("/auth/password-reset/confirm",
                                          json={"token": token, "new_password": "after the upgrade 1"})
            assert confirmed.status_code == 204
            assert_problem(await client.post("/auth/login", json={"email": email, "password": PASSWORD}), 401)
            await login(client, email, "after the upgrade 1")
    finally:
        await lifespan.__aexit__(None, None, None)


async def test_going_back_to_the_previous_release_keeps_its_data(fresh_database: str, tmp_path: Path) -> None:
    email = await _previous_release_with_data(fresh_database, tmp_path)
    engine = create_engine(make_settings(tmp_path, fresh_database))
    try:
        async with engine.begin() as conn:  # what this release adds: kinds and a status the previous lacks
            user_id = (await conn.execute(sa.select(users.c.id))).scalar_one()
            now = datetime.now(UTC)
            await conn.execute(sa.insert(notifications).values([
                {"id": uuid.uuid4(), "user_id": user_id, "kind": "password_reset", "message": "m",
                 "status": "queued", "created_at": now, "attempts": 0},
                {"id": uuid.uuid4(), "user_id": user_id, "kind": "message", "message": "m",
                 "status": "withheld", "created_at": now, "attempts": 0}]))
        await downgrade(engine, "0006")
        async with engine.connect() as conn:
            counts = [(await conn.execute(sa.text(f"SELECT count(*) FROM {table}"))).scalar()  # noqa: S608
                      for table in ("users", "sessions", "items", "notifications")]
            kept = (await conn.execute(sa.text("SELECT email FROM users"))).scalar()
            readable = set((await conn.execute(sa.text("SELECT kind, status FROM notifications"))).all())
        await upgrade(engine)
    finally:
        await engine.dispose()
    assert counts == [1, 1, 1, 2]  # the old notification, and the message (now failed); the reset mail went
    assert kept == email
    assert readable == {("new_login", "delivered"), ("message", "failed")}
