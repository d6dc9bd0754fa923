"""POST /auth/logout, POST /auth/revoke (RFC 7009) and POST /auth/logout-all."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from tests.api.conftest import Forge
from tests.api.helpers import (
    Account,
    account,
    assert_invalid_token,
    assert_oauth_error,
    assert_problem,
    assert_token_response,
    bearer,
    login,
    refresh,
    revoke,
)

EndSession = Callable[[httpx.AsyncClient, str], Awaitable[None]]


async def _logout(client: httpx.AsyncClient, token: str) -> None:
    response = await client.post("/auth/logout", json={"refresh_token": token})
    assert response.status_code == 204, response.text
    assert response.content == b""


async def _revoke(client: httpx.AsyncClient, token: str) -> None:
    response = await revoke(client, token)
    assert response.status_code == 200, response.text
    assert response.content == b""


async def _revoke_with_hint(client: httpx.AsyncClient, token: str) -> None:
    response = await revoke(client, token, token_type_hint="refresh_token")
    assert response.status_code == 200, response.text
    assert response.content == b""


ENDERS = [pytest.param(_logout, id="logout"), pytest.param(_revoke, id="revoke"),
          pytest.param(_revoke_with_hint, id="revoke-hinted")]


async def _assert_session_ended(client: httpx.AsyncClient, tokens: dict[str, Any]) -> None:
    assert_problem(await refresh(client, tokens["refresh_token"]), 401, "invalid_refresh_token")
    assert_invalid_token(await client.get("/users/me", headers=bearer(tokens["access_token"])))


async def _assert_session_alive(client: httpx.AsyncClient, tokens: dict[str, Any]) -> None:
    assert (await client.get("/users/me", headers=bearer(tokens["access_token"]))).status_code == 200
    assert_token_response(await refresh(client, tokens["refresh_token"]))


@pytest.mark.parametrize("end", ENDERS)
async def test_the_current_refresh_token_ends_its_session(client: httpx.AsyncClient, end: EndSession) -> None:
    alice = await account(client)
    await end(client, alice.tokens["refresh_token"])
    await _assert_session_ended(client, alice.tokens)


@pytest.mark.parametrize("end", ENDERS)
async def test_a_spent_refresh_token_ends_its_session(client: httpx.AsyncClient, end: EndSession) -> None:
    alice = await account(client)
    spent = alice.tokens["refresh_token"]
    current = assert_token_response(await refresh(client, spent))
    await end(client, spent)
    await _assert_session_ended(client, current)


@pytest.mark.parametrize("end", ENDERS)
async def test_an_access_token_ends_its_session(client: httpx.AsyncClient, end: EndSession) -> None:
    alice = await account(client)
    await end(client, alice.tokens["access_token"])
    await _assert_session_ended(client, alice.tokens)


@pytest.mark.parametrize("end", ENDERS)
async def test_an_access_token_from_before_a_refresh_ends_the_session(client: httpx.AsyncClient,
                                                                      end: EndSession) -> None:
    alice = await account(client)
    current = assert_token_response(await refresh(client, alice.tokens["refresh_token"]))
    await end(client, alice.tokens["access_token"])
    await _assert_session_ended(client, current)


@pytest.mark.parametrize("which", ["refresh_token", "access_token"])
@pytest.mark.parametrize("end", ENDERS)
async def test_other_sessions_of_the_user_are_untouched(client: httpx.AsyncClient, end: EndSession,
                                                        which: str) -> None:
    alice = await account(client)
    other = await login(client, alice.email)
    await end(client, alice.tokens[which])
    await _assert_session_alive(client, other)


@pytest.mark.parametrize("end", ENDERS)
async def test_other_users_are_untouched(client: httpx.AsyncClient, end: EndSession) -> None:
    alice, bob = await account(client), await account(client)
    await end(client, alice.tokens["refresh_token"])
    await _assert_session_alive(client, bob.tokens)


@pytest.mark.parametrize("end", ENDERS)
async def test_ending_a_session_twice_is_fine(client: httpx.AsyncClient, end: EndSession) -> None:
    alice = await account(client)
    await end(client, alice.tokens["refresh_token"])
    await end(client, alice.tokens["refresh_token"])
    await end(client, alice.tokens["access_token"])
    await _assert_session_ended(client, alice.tokens)


@pytest.mark.parametrize("token", ["A" * 43, "not-a-token", "a.b.c", "x" * 2000, "eyJhbGciOiJub25lIn0.e30."])
@pytest.mark.parametrize("end", ENDERS)
async def test_an_unknown_token_is_accepted_and_changes_nothing(client: httpx.AsyncClient, end: EndSession,
                                                                token: str) -> None:
    alice = await account(client)
    await end(client, token)
    await _assert_session_alive(client, alice.tokens)


async def test_revoke_answers_200_even_for_an_oversized_token(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    await _revoke(client, "x" * 9000)
    await _assert_session_alive(client, alice.tokens)


async def test_logout_without_a_refresh_token_field_is_422(client: httpx.AsyncClient) -> None:
    assert_problem(await client.post("/auth/logout", json={}), 422, "validation_error")


async def test_logout_with_a_form_body_is_422(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    response = await client.post("/auth/logout", data={"refresh_token": alice.tokens["refresh_token"]})
    assert_problem(response, 422, "validation_error")
    await _assert_session_alive(client, alice.tokens)


# --- RFC 7009 specifics --------------------------------------------------------------------------

async def test_revoke_without_a_token_is_400_invalid_request(client: httpx.AsyncClient) -> None:
    response = await client.post("/auth/revoke", data={"token_type_hint": "refresh_token"})
    assert_oauth_error(response, 400, "invalid_request")


async def test_revoke_with_an_empty_body_is_400_invalid_request(client: httpx.AsyncClient) -> None:
    response = await client.post("/auth/revoke", content=b"",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_oauth_error(response, 400, "invalid_request")


async def test_revoke_with_a_json_body_is_400_invalid_request(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    response = await client.post("/auth/revoke", json={"token": alice.tokens["refresh_token"]})
    assert_oauth_error(response, 400, "invalid_request")
    await _assert_session_alive(client, alice.tokens)


async def test_a_wrong_token_type_hint_does_not_stop_revocation(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    response = await revoke(client, alice.tokens["refresh_token"], token_type_hint="access_token")
    assert response.status_code == 200, response.text
    await _assert_session_ended(client, alice.tokens)


async def test_an_unknown_token_type_hint_is_still_200(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    response = await revoke(client, alice.tokens["refresh_token"], token_type_hint="id_token")
    assert response.status_code == 200, response.text
    await _assert_session_ended(client, alice.tokens)


# --- logout-all ----------------------------------------------------------------------------------

async def test_logout_all_ends_every_session_of_the_user_including_the_callers(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    phone, laptop = await login(client, alice.email), await login(client, alice.email)
    response = await client.post("/auth/logout-all", headers=alice.auth)
    assert response.status_code == 204, response.text
    assert response.content == b""
    for tokens in (alice.tokens, phone, laptop):
        await _assert_session_ended(client, tokens)


async def test_logout_all_leaves_other_users_alone(client: httpx.AsyncClient) -> None:
    alice, bob = await account(client), await account(client)
    assert (await client.post("/auth/logout-all", headers=alice.auth)).status_code == 204
    await _assert_session_alive(client, bob.tokens)


async def test_logout_all_needs_a_bearer_token(client: httpx.AsyncClient) -> None:
    response = await client.post("/auth/logout-all")
    assert_problem(response, 401, "not_authenticated")
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_logout_all_with_an_ended_sessions_token_is_401(client: httpx.AsyncClient) -> None:
    alice: Account = await account(client)
    other = await login(client, alice.email)
    await _logout(client, alice.tokens["refresh_token"])
    assert_invalid_token(await client.post("/auth/logout-all", headers=alice.auth))
    await _assert_session_alive(client, other)


@pytest.mark.parametrize("end", ENDERS)
async def test_an_access_token_expired_within_the_leeway_ends_its_session_and_past_it_nothing(
        forge: Forge, end: EndSession) -> None:
    client, alice = forge.client, forge.alice
    now = int(time.time())
    long_expired = forge.token(iat=now - 3600, exp=now - 31)  # the leeway is 30 s
    await end(client, long_expired)
    await _assert_session_alive(client, alice.tokens)

    just_expired = forge.token(iat=now - 900, exp=now - 5)
    await end(client, just_expired)
    assert_problem(await client.get("/users/me", headers=alice.auth), 401, "invalid_token")
