"""A database outage under traffic: 503 problem details while it lasts, then the same process
recovers by itself with nothing lost."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from tests.api.helpers import account
from tests.conftest import client_for, make_settings
from tests.integration.pgcluster import PgCluster

pytestmark = pytest.mark.postgres
GUARD = 15.0  # no request may hang beyond the configured timeouts (plus scheduling slack)


@pytest.fixture
def cluster() -> Iterator[PgCluster]:
    try:
        cluster = PgCluster()
    except (FileNotFoundError, OSError) as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"cannot create a PostgreSQL cluster: {exc}")
        pytest.skip(f"cannot create a PostgreSQL cluster: {exc}")
    cluster.start()
    yield cluster
    cluster.destroy()


async def _create(client: httpx.AsyncClient, auth: dict[str, str], n: int) -> httpx.Response:
    return await asyncio.wait_for(client.post("/items/", json={"title": f"item {n}"}, headers=auth), GUARD)


async def test_an_outage_gives_503_and_the_service_recovers_without_restart(
        cluster: PgCluster, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, cluster.url, auto_migrate=True, db_connect_timeout=2,
                             db_command_timeout=3, db_pool_timeout=2)
    app = create_app(settings, access_log=False)
    async with app.router.lifespan_context(app), client_for(app) as client:
        alice = await account(client)
        created: list[str] = []
        outcomes: list[int] = []
        stop_at, n = 10, 0

        async def traffic(until: asyncio.Event) -> None:
            nonlocal n
            while not until.is_set():
                n += 1
                response = await _create(client, alice.auth, n)
                outcomes.append(response.status_code)
                if response.status_code == 201:
                    created.append(response.json()["id"])
                else:
                    assert response.status_code == 503, response.text
                    assert response.headers["content-type"].startswith("application/problem+json")
                    assert "Traceback" not in response.text
                await asyncio.sleep(0.01)

        done = asyncio.Event()
        flowing = asyncio.create_task(traffic(done))

        async def until(condition: Callable[[], bool]) -> None:
            for _ in range(3000):  # bounded: a dead traffic task or a stuck service fails the test
                if flowing.done():
                    await flowing  # re-raise what stopped it
                    raise AssertionError("traffic stopped early")
                if condition():
                    return
                await asyncio.sleep(0.01)
            raise AssertionError(f"timed out waiting; outcomes so far: {outcomes[-20:]}")

        await until(lambda: len(created) >= stop_at)
        await asyncio.to_thread(cluster.stop)
        ready = await asyncio.wait_for(client.get("/health/ready"), GUARD)
        assert ready.status_code == 503
        assert ready.headers["content-type"].startswith("application/problem+json")
        await until(lambda: outcomes.count(503) >= 5)
        await asyncio.to_thread(cluster.start)
        for _ in range(100):
            if (await client.get("/health/ready")).status_code == 200:
                break
            await asyncio.sleep(0.1)
        assert (await client.get("/health/ready")).status_code == 200
        served_again = len(created)
        await until(lambda: len(created) >= served_again + 5)
        done.set()
        await flowing
        assert 500 not in outcomes
        listing = await client.get("/items/", params={"limit": 100}, headers=alice.auth)
        stored = {item["id"] for item in listing.json()["items"]}
        assert set(created) <= stored  # every 201 survived the outage
        assert (await client.get("/users/me", headers=alice.auth)).status_code == 200
