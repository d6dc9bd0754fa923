from __future__ import annotations

import httpx

from tests.api.helpers import account


async def test_health_answers_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_a_registered_user_reads_their_profile(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    response = await client.get("/users/me", headers=alice.auth)
    assert response.status_code == 200
    assert response.json()["email"] == alice.email
