"""Retention seen from a client: a spent refresh token stays a reuse signal for the history period and is
then refused as unknown; ended sessions and their tokens go; live ones never."""

from __future__ import annotations

import asyncio
from typing import cast

from sqlalchemy import func, select

from api.container import Container
from domain.retention import Purgeable
from infrastructure.db.tables import sessions
from tests.api.conftest import ClockedApp
from tests.api.helpers import account, assert_problem, assert_token_response, refresh
from tests.conftest import client_for

HOUR = 3600
DAY = 24 * HOUR


def _container(app: object) -> Container:
    return cast(Container, app.state.container)  # type: ignore[attr-defined]


async def test_a_token_spent_weeks_ago_is_still_reuse_while_its_session_lives(clocked_app: ClockedApp) -> None:
    """Retention never forgets a spent token its session could still be ended for (contract: any spent token
    presented again ends the session)."""
    app, clock = await clocked_app(session_idle_timeout_seconds=30 * DAY)
    async with client_for(app) as client:
        alice = await account(client)
        spent, latest = alice.tokens["refresh_token"], alice.tokens
        for wait in (1, 10 * DAY, 10 * DAY):  # three refreshes over twenty days
            clock.advance(seconds=wait)
            latest = assert_token_response(await refresh(client, latest["refresh_token"]))

        report = await _container(app).purge_expired_records().execute()
        assert report.deleted[Purgeable.TOKEN_HISTORY] == 0  # the session may still live: nothing forgotten

        assert_problem(await refresh(client, spent), 401, "invalid_refresh_token")  # spent twenty days ago: reuse
        assert_problem(await refresh(client, latest["refresh_token"]), 401, "invalid_refresh_token")  # ended


async def test_a_sessions_history_goes_once_it_can_no_longer_live(clocked_app: ClockedApp) -> None:
    app, clock = await clocked_app(session_absolute_lifetime_seconds=2 * HOUR, session_retention_seconds=DAY)
    async with client_for(app) as client:
        alice = await account(client)
        latest = alice.tokens
        for _ in range(3):
            clock.advance(seconds=HOUR // 2)
            latest = assert_token_response(await refresh(client, latest["refresh_token"]))
        container = _container(app)
        assert (await container.purge_expired_records().execute()).deleted[Purgeable.TOKEN_HISTORY] == 0
        clock.advance(seconds=2 * HOUR + 1)  # past the session's absolute expiry: its spent tokens can go
        report = await container.purge_expired_records().execute()
        assert report.deleted[Purgeable.TOKEN_HISTORY] == 3  # all three spent more than a lifetime ago
        assert report.deleted[Purgeable.SESSIONS] == 0  # the session itself after the session retention
        assert_problem(await refresh(client, latest["refresh_token"]), 401, "invalid_refresh_token")


async def test_a_logged_out_session_goes_after_the_session_retention_and_a_live_one_stays(
        clocked_app: ClockedApp) -> None:
    app, clock = await clocked_app(session_retention_seconds=HOUR)
    async with client_for(app) as client:
        leaving, staying = await account(client), await account(client)
        assert (await client.post("/auth/logout", json={"refresh_token": leaving.tokens["refresh_token"]},
                                  headers=leaving.auth)).status_code in (200, 204)
        container = _container(app)
        assert (await container.purge_expired_records().execute()).deleted[Purgeable.SESSIONS] == 0
        clock.advance(seconds=HOUR + 1)
        assert (await container.purge_expired_records().execute()).deleted[Purgeable.SESSIONS] == 1
        assert_token_response(await refresh(client, staying.tokens["refresh_token"]))
        assert_problem(await refresh(client, leaving.tokens["refresh_token"]), 401, "invalid_refresh_token")


async def test_a_service_with_a_short_interval_purges_by_itself(clocked_app: ClockedApp) -> None:
    """The job in the lifespan (its first run within a second, for an interval of one second)."""
    app, clock = await clocked_app(session_retention_seconds=HOUR, retention_interval_seconds=1)
    async with client_for(app) as client:
        leaving = await account(client)
        await client.post("/auth/logout", json={"refresh_token": leaving.tokens["refresh_token"]},
                          headers=leaving.auth)
        clock.advance(seconds=HOUR + 1)
        engine = _container(app).engine()
        left = -1
        for _ in range(50):
            async with engine.connect() as conn:
                left = (await conn.execute(select(func.count()).select_from(sessions))).scalar_one()
            if left == 0:
                break
            await asyncio.sleep(0.1)
        assert left == 0
