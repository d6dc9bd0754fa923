"""GET and PATCH /users/me, POST /users/me/password."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx
import pytest

from infrastructure.db.user_cache import UserCache
from tests.api.helpers import (
    PASSWORD,
    account,
    assert_invalid_token,
    assert_problem,
    assert_token_response,
    bearer,
    login,
    parse_time,
    refresh,
    register,
    unique_email,
)
from tests.conftest import AppFactory, client_for

NEW_PASSWORD = "a brand new passphrase 42"


# --- GET /users/me -------------------------------------------------------------------------------

async def test_reading_ones_profile_returns_the_user(client: httpx.AsyncClient) -> None:
    email = unique_email()
    user = await register(client, email, full_name="Alice Liddell")
    tokens = await login(client, email)
    response = await client.get("/users/me", headers=bearer(tokens["access_token"]))
    assert response.status_code == 200, response.text
    me = response.json()
    assert me == user
    assert set(me) == {"id", "email", "full_name", "created_at", "email_verified", "roles"}
    assert me["email_verified"] is False
    assert me["roles"] == []
    parse_time(me["created_at"])


async def test_reading_the_profile_needs_a_bearer_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/users/me")
    assert_problem(response, 401, "not_authenticated")
    assert response.headers["www-authenticate"] == "Bearer"


# --- PATCH /users/me -----------------------------------------------------------------------------

async def test_patching_the_full_name_changes_it(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    response = await client.patch("/users/me", json={"full_name": "Alice Pleasance Liddell"}, headers=alice.auth)
    assert response.status_code == 200, response.text
    assert response.json()["full_name"] == "Alice Pleasance Liddell"
    assert (await client.get("/users/me", headers=alice.auth)).json()["full_name"] == "Alice Pleasance Liddell"


async def test_patching_with_no_fields_changes_nothing(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    await client.patch("/users/me", json={"full_name": "Alice"}, headers=alice.auth)
    response = await client.patch("/users/me", json={}, headers=alice.auth)
    assert response.status_code == 200, response.text
    assert response.json()["full_name"] == "Alice"


async def test_patching_the_full_name_to_null_clears_it(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    await client.patch("/users/me", json={"full_name": "Alice"}, headers=alice.auth)
    response = await client.patch("/users/me", json={"full_name": None}, headers=alice.auth)
    assert response.status_code == 200, response.text
    assert response.json()["full_name"] is None


async def test_patching_cannot_change_the_email(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    response = await client.patch("/users/me", json={"email": "mallory@example.com", "full_name": "A"},
                                  headers=alice.auth)
    assert response.status_code in (200, 422), response.text
    assert (await client.get("/users/me", headers=alice.auth)).json()["email"] == alice.email


@pytest.mark.parametrize("body", [{"full_name": 42}, {"full_name": "nul\x00byte"}, {"full_name": ["a"]},
                                  {"full_name": "x" * 10_000}])
async def test_patching_with_an_invalid_full_name_is_422(client: httpx.AsyncClient, body: dict[str, object]) -> None:
    alice = await account(client)
    response = await client.patch("/users/me", json=body, headers=alice.auth)
    problem = assert_problem(response, 422, "validation_error")
    assert problem["errors"]
    assert (await client.get("/users/me", headers=alice.auth)).json()["full_name"] is None


async def test_patching_a_json_array_is_422(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    assert_problem(await client.patch("/users/me", json=["full_name"], headers=alice.auth), 422, "validation_error")


async def test_patching_the_profile_needs_a_bearer_token(client: httpx.AsyncClient) -> None:
    assert_problem(await client.patch("/users/me", json={"full_name": "X"}), 401, "not_authenticated")


# --- POST /users/me/password ---------------------------------------------------------------------

async def _change(client: httpx.AsyncClient, auth: dict[str, str], current: str = PASSWORD,
                  new: str = NEW_PASSWORD) -> httpx.Response:
    return await client.post("/users/me/password", json={"current_password": current, "new_password": new},
                             headers=auth)


async def test_changing_the_password_is_204_and_the_new_password_logs_in(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    response = await _change(client, alice.auth)
    assert response.status_code == 204, response.text
    assert response.content == b""
    assert_token_response(await client.post("/auth/login", json={"email": alice.email, "password": NEW_PASSWORD}))
    old = await client.post("/auth/login", json={"email": alice.email, "password": PASSWORD})
    assert_problem(old, 401, "invalid_credentials")


async def test_changing_the_password_ends_every_other_session_and_keeps_the_callers(
        client: httpx.AsyncClient) -> None:
    alice = await account(client)
    phone, laptop = await login(client, alice.email), await login(client, alice.email)
    assert (await _change(client, alice.auth)).status_code == 204
    for other in (phone, laptop):
        assert_invalid_token(await client.get("/users/me", headers=bearer(other["access_token"])))
        assert_problem(await refresh(client, other["refresh_token"]), 401, "invalid_refresh_token")
    assert (await client.get("/users/me", headers=alice.auth)).status_code == 200
    assert_token_response(await refresh(client, alice.tokens["refresh_token"]))


async def test_changing_the_password_leaves_other_users_alone(client: httpx.AsyncClient) -> None:
    alice, bob = await account(client), await account(client)
    assert (await _change(client, alice.auth)).status_code == 204
    assert (await client.get("/users/me", headers=bob.auth)).status_code == 200


async def test_a_wrong_current_password_is_400_invalid_credentials_and_changes_nothing(
        client: httpx.AsyncClient) -> None:
    alice = await account(client)
    other = await login(client, alice.email)
    response = await _change(client, alice.auth, current="not my password")
    assert_problem(response, 400, "invalid_credentials")
    assert (await client.get("/users/me", headers=bearer(other["access_token"]))).status_code == 200
    assert_token_response(await client.post("/auth/login", json={"email": alice.email, "password": PASSWORD}))


@pytest.mark.parametrize("new", ["Qz7!kWp", "password123", "PassWord123", "Qz7!kWp" * 146 + "Qz7"])
async def test_a_new_password_that_breaks_the_policy_is_422(client: httpx.AsyncClient, new: str) -> None:
    alice = await account(client)
    body = assert_problem(await _change(client, alice.auth, new=new), 422, "validation_error")
    assert body["errors"]
    assert_token_response(await client.post("/auth/login", json={"email": alice.email, "password": PASSWORD}))


@pytest.mark.parametrize("missing", ["current_password", "new_password"])
async def test_a_password_change_with_a_missing_field_is_422(client: httpx.AsyncClient, missing: str) -> None:
    alice = await account(client)
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    del body[missing]
    response = await client.post("/users/me/password", json=body, headers=alice.auth)
    problem = assert_problem(response, 422, "validation_error")
    assert any(e["loc"][-1] == missing for e in problem["errors"]), problem


async def test_changing_the_password_needs_a_bearer_token(client: httpx.AsyncClient) -> None:
    assert_problem(await _change(client, {}), 401, "not_authenticated")


# --- several workers ---------------------------------------------------------------------------------

async def _eventually(check: Callable[[], Awaitable[bool]], seconds: float = 5.0) -> bool:
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        if await check():
            return True
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.01)


async def test_a_change_made_through_one_worker_is_seen_by_the_others(
        app_factory: AppFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    # Two apps on one database stand for two workers. The cache lifetime is set far beyond the wait,
    # so on Postgres only the change notification can explain the second worker seeing the change;
    # the first does not listen, so only its own unit of work can make it drop its copy.
    first, first_container = await app_factory(profile_cache_seconds=60)
    second, _ = await app_factory(profile_cache_seconds=60)
    if isinstance(first_cache := first_container.user_cache(), UserCache):  # Postgres; SQLite has no cache
        monkeypatch.setattr(first_cache, "_on_notification", lambda *_: None)
    async with client_for(first) as a, client_for(second) as b:
        me = await account(a)
        headers = bearer(me.tokens["access_token"])
        assert (await b.get("/users/me", headers=headers)).json()["full_name"] is None  # now cached in b
        assert (await a.get("/users/me", headers=headers)).json()["full_name"] is None  # and in a

        renamed = await a.patch("/users/me", json={"full_name": "Renamed Elsewhere"}, headers=headers)
        assert renamed.status_code == 200, renamed.text
        # The worker that made the change never answers with the old row again.
        assert (await a.get("/users/me", headers=headers)).json()["full_name"] == "Renamed Elsewhere"

        async def second_sees_it() -> bool:
            return bool((await b.get("/users/me", headers=headers)).json()["full_name"] == "Renamed Elsewhere")

        assert await _eventually(second_sees_it)


async def test_five_wrong_current_passwords_lock_the_check_for_every_session_of_the_user(
        client: httpx.AsyncClient) -> None:
    alice, bob = await account(client), await account(client)
    phone = await login(client, alice.email)
    for auth in (alice.auth, bearer(phone["access_token"])) * 2 + (alice.auth,):  # one count per user
        assert_problem(await _change(client, auth, current="not my password"), 400, "invalid_credentials")

    for auth in (alice.auth, bearer(phone["access_token"])):
        response = await _change(client, auth)  # the correct current password too
        body = assert_problem(response, 429, "rate_limited")
        assert 1 <= int(response.headers["Retry-After"]) <= 900
        assert response.headers["Retry-After"] in body["detail"]
    assert_token_response(await client.post("/auth/login", json={"email": alice.email, "password": PASSWORD}))
    assert (await _change(client, bob.auth)).status_code == 204  # another user's count is apart


async def test_the_password_check_limit_is_configurable_and_a_success_resets_it(app_factory: AppFactory) -> None:
    app, _ = await app_factory(password_check_max_failures=2, password_check_window_seconds=60)
    async with client_for(app) as client:
        alice = await account(client)
        assert_problem(await _change(client, alice.auth, current="not my password"), 400, "invalid_credentials")
        assert (await _change(client, alice.auth)).status_code == 204  # resets the count
        for _ in range(2):
            assert_problem(await _change(client, alice.auth, current="wrong again"), 400, "invalid_credentials")
        response = await _change(client, alice.auth, current=NEW_PASSWORD, new=PASSWORD)
        assert_problem(response, 429, "rate_limited")
        assert 1 <= int(response.headers["Retry-After"]) <= 60
