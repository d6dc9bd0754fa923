"""GET /users/me/security-events: the user's own security log, written with what it records."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.conftest import ClockedApp
from tests.api.helpers import PASSWORD, Account, account, assert_problem, claims_of, login, unique_email
from tests.conftest import AppFactory, client_for

EVENT_FIELDS = {"id", "type", "at", "ip", "user_agent", "session_id", "actor"}


async def _events(client: httpx.AsyncClient, who: Account, **query: Any) -> dict[str, Any]:
    response = await client.get("/users/me/security-events", headers=who.auth, params=query)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_a_login_is_recorded_with_its_session_and_client(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    page = await _events(client, alice)
    assert set(page) == {"events", "next_cursor"}
    [event] = page["events"]
    assert set(event) == EVENT_FIELDS
    assert event["type"] == "login_succeeded"
    assert event["actor"] == "user"
    assert event["ip"] == "203.0.113.7"
    assert event["session_id"] == claims_of(alice.tokens["access_token"])["sid"]
    assert page["next_cursor"] is None


async def test_the_flows_of_v1_are_recorded_newest_first(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    second = await login(client, alice.email)
    await client.post("/auth/login", json={"email": alice.email, "password": "not the password"})
    await client.post("/auth/login", json={"email": unique_email(), "password": "whatever it is"})  # unknown
    await client.post("/auth/logout", json={"refresh_token": second["refresh_token"]})
    await client.post("/users/me/password", headers=alice.auth,
                      json={"current_password": PASSWORD, "new_password": "another fine passphrase"})
    await client.post("/auth/logout-all", headers=alice.auth)
    fresh = Account(alice.email, "another fine passphrase", alice.user,
                    await login(client, alice.email, "another fine passphrase"))
    types = [e["type"] for e in (await _events(client, fresh))["events"]]
    assert types == ["login_succeeded", "logout_all", "password_changed", "session_ended", "login_failed",
                     "login_succeeded", "login_succeeded"]


async def test_a_reused_refresh_token_is_recorded_by_the_system(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    spent = alice.tokens["refresh_token"]
    assert (await client.post("/auth/refresh", json={"refresh_token": spent})).status_code == 200
    assert (await client.post("/auth/refresh", json={"refresh_token": spent})).status_code == 401
    other = Account(alice.email, PASSWORD, alice.user, await login(client, alice.email))
    reuse = [e for e in (await _events(client, other))["events"] if e["type"] == "refresh_token_reuse"]
    assert len(reuse) == 1
    assert reuse[0]["actor"] == "system"


async def test_a_lock_out_is_recorded_once_however_many_attempts_it_refuses(app_factory: AppFactory) -> None:
    app, _ = await app_factory(login_max_failures=2)
    async with client_for(app) as client:
        alice = await account(client)
        for _ in range(6):
            await client.post("/auth/login", json={"email": alice.email, "password": "a wrong guess"})
        types = [e["type"] for e in (await _events(client, alice))["events"]]
    assert types.count("login_rate_limited") == 1
    assert types.count("login_failed") == 2


async def test_events_page_with_a_cursor_and_never_repeat(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    for _ in range(4):
        await login(client, alice.email)
    first = await _events(client, alice, limit=2)
    assert len(first["events"]) == 2
    second = await _events(client, alice, limit=2, cursor=first["next_cursor"])
    await login(client, alice.email)  # a new event meanwhile lands before the cursor, not in the next page
    third = await _events(client, alice, limit=2, cursor=second["next_cursor"])
    ids = [e["id"] for page in (first, second, third) for e in page["events"]]
    assert len(ids) == len(set(ids)) == 5
    assert third["next_cursor"] is None


async def test_a_bad_cursor_or_limit_is_422(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    for query in ({"cursor": "not-a-cursor"}, {"limit": 0}, {"limit": 101}, {"cursor": "x" * 300}):
        assert_problem(await client.get("/users/me/security-events", headers=alice.auth, params=query), 422,
                       "validation_error")
    assert_problem(await client.get("/users/me/security-events"), 401, "not_authenticated")


async def test_one_user_never_sees_anothers_events(client: httpx.AsyncClient) -> None:
    alice, bob = await account(client), await account(client)
    alices = {e["id"] for e in (await _events(client, alice))["events"]}
    bobs = {e["id"] for e in (await _events(client, bob))["events"]}
    assert alices.isdisjoint(bobs)


async def test_each_lock_out_is_recorded_once_even_when_they_follow_each_other(clocked_app: ClockedApp) -> None:
    app, clock = await clocked_app(login_max_failures=2, login_failure_window_seconds=60)
    async with client_for(app) as client:
        alice = await account(client)
        for _ in range(2):  # two lock-outs, one after the other
            for _ in range(4):
                await client.post("/auth/login", json={"email": alice.email, "password": "a wrong guess"})
            clock.advance(seconds=61)
        types = [e["type"] for e in (await _events(client, alice))["events"]]
    assert types.count("login_rate_limited") == 2
