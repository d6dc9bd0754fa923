"""One mailbox, one account: two spellings of an address are one account (NFKC, IDNA domain), over HTTP
and in migration 0006, which rewrites stored addresses and reports accounts that already collide."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from infrastructure.db.engine import create_engine
from infrastructure.db.migrate import downgrade, upgrade
from infrastructure.db.tables import users
from tests.api.helpers import PASSWORD
from tests.conftest import AppFactory, client_for, make_settings


@pytest.mark.parametrize(("registered", "typed"), [
    ("a@example.com", "a@ｅｘａｍｐｌｅ.com"),  # fullwidth letters
    ("a@ｅxample.com", "A@EXAMPLE.COM"),
    ("ﬁnn@example.com", "finn@example.com"),  # a ligature
    ("a@bücher.example", "a@xn--bcher-kva.example"),  # U-label and A-label
    ("a@xn--bcher-kva.example", "a@BÜCHER.example"),
])
async def test_two_spellings_of_one_mailbox_are_one_account(
        app_factory: AppFactory, registered: str, typed: str) -> None:
    app, _ = await app_factory()
    async with client_for(app) as client:
        local = uuid.uuid4().hex[:8]
        first = await client.post("/auth/register", json={"email": f"{local}{registered}", "password": PASSWORD})
        assert first.status_code == 201, first.text
        assert (await client.post("/auth/register", json={"email": f"{local}{typed}", "password": PASSWORD})
                ).status_code == 409
        login = await client.post("/auth/login", json={"email": f"{local}{typed}", "password": PASSWORD})
        assert login.status_code == 200, login.text
        stored = first.json()["email"]
        assert "ｅ" not in stored
        assert "xn--" not in stored  # the domain keeps its Unicode spelling
        assert stored == stored.lower()


def _user_row(email: str) -> dict[str, object]:
    now = datetime.now(UTC)
    return {"id": uuid.uuid4(), "email": email, "password_hash": "$argon2id$x", "full_name": None,
            "created_at": now, "updated_at": now}


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_the_migration_rewrites_spellings_and_reports_accounts_that_collide(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]) -> None:
    url = str(request.getfixturevalue("sqlite_url" if backend == "sqlite" else "migrated_postgres"))
    engine = create_engine(make_settings(tmp_path, url))
    tag = uuid.uuid4().hex[:8]
    plain, wide, lonely = (_user_row(f"{tag}@example.com"), _user_row(f"{tag}@ｅxample.com"),
                           _user_row(f"{tag}-only@ｅxample.org"))
    try:
        await downgrade(engine, "0005")
        try:
            async with engine.begin() as conn:
                await conn.execute(sa.insert(users).values([{**r, "credential_version": 0}
                                                            for r in (plain, wide, lonely)]))
            capsys.readouterr()
        finally:
            await upgrade(engine)  # the database is at head again, whatever happened
        report = capsys.readouterr().err
        async with engine.connect() as conn:
            stored = dict((await conn.execute(sa.select(users.c.id, users.c.email))).all())
    finally:
        await engine.dispose()
    assert stored[lonely["id"]] == f"{tag}-only@example.org"  # rewritten to its one spelling
    assert (stored[plain["id"]], stored[wide["id"]]) == (plain["email"], wide["email"])  # left as they are
    assert str(plain["id"]) in report
    assert str(wide["id"]) in report
    assert str(lonely["id"]) not in report
    assert tag not in report  # ids, not addresses


async def test_an_account_left_in_its_earlier_spelling_still_logs_in_with_it(app_factory: AppFactory) -> None:
    app, container = await app_factory()
    async with client_for(app) as client:
        tag = uuid.uuid4().hex[:8]
        plain, wide = f"{tag}@example.com", f"{tag}@ｅxample.com"
        assert (await client.post("/auth/register", json={"email": plain, "password": PASSWORD})).status_code == 201
        other_password = PASSWORD + " two"
        assert (await client.post("/auth/register", json={"email": f"x{tag}@example.com",
                                                          "password": other_password})).status_code == 201
        async with container.engine().begin() as conn:  # as migration 0006 would have left a collision
            await conn.execute(sa.update(users).where(users.c.email == f"x{tag}@example.com").values(email=wide))
        as_wide = await client.post("/auth/login", json={"email": wide, "password": other_password})
        assert as_wide.status_code == 200, as_wide.text
        as_plain = await client.post("/auth/login", json={"email": plain, "password": PASSWORD})
        assert as_plain.status_code == 200, as_plain.text
        assert (await client.post("/auth/login", json={"email": wide, "password": PASSWORD})).status_code == 401
