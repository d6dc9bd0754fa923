"""The login limit under a concurrent burst, over real HTTP against two workers: of 500 wrong passwords
sent at once for one (email, client IP), exactly five are checked (401) and the rest refused (429),
and the correct password after them is refused too — counted in the database, or in Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.api.helpers import PASSWORD
from tests.conftest import truncate_all
from tests.live_server import live_server
from tests.postgres import run_coroutine

BURST = 500


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres),
                        pytest.param("postgres and redis", marks=pytest.mark.postgres)])
def server_env(request: pytest.FixtureRequest) -> dict[str, str]:
    if request.param == "sqlite":
        return {}
    url = str(request.getfixturevalue("migrated_postgres"))
    run_coroutine(truncate_all(url))
    env = {"GATEHOUSE_DATABASE_URL": url}
    if request.param.endswith("redis"):
        env["GATEHOUSE_REDIS_URL"] = str(request.getfixturevalue("redis_url"))
    return env


def test_five_hundred_concurrent_wrong_passwords_against_two_workers_get_exactly_five_401s(
        server_env: dict[str, str], tmp_path: Path) -> None:
    with live_server(tmp_path, workers=2, environment=server_env) as server:
        email = f"burst-{uuid.uuid4().hex[:10]}@example.com"
        registered = httpx.post(f"{server.base_url}/auth/register", json={"email": email, "password": PASSWORD})
        assert registered.status_code == 201

        async def burst() -> Counter[int]:
            limits = httpx.Limits(max_connections=BURST)
            async with httpx.AsyncClient(base_url=server.base_url, limits=limits, timeout=60) as client:
                answers = await asyncio.gather(*(
                    client.post("/auth/login", json={"email": email, "password": f"wrong guess {n}"})
                    for n in range(BURST)))
            return Counter(a.status_code for a in answers)

        codes = asyncio.run(burst())
        # on a new connection: the burst's may have idled past the server's keep-alive meanwhile
        correct = httpx.post(f"{server.base_url}/auth/login", json={"email": email, "password": PASSWORD}).status_code
    assert codes == Counter({401: 5, 429: BURST - 5})
    assert correct == 429  # once limited, the right password too
