"""POST /auth/token: RFC 6749 password and refresh_token grants, form bodies, §5.2 error bodies."""

from __future__ import annotations

import httpx
import pytest

from tests.api.helpers import (
    PASSWORD,
    Account,
    account,
    assert_oauth_error,
    assert_token_response,
    bearer,
    claims_of,
    login,
    notifications_of,
    password_grant,
    register,
    token_grant,
    unique_email,
)


async def test_the_password_grant_returns_a_token_response_that_is_not_cached(client: httpx.AsyncClient) -> None:
    email = unique_email()
    user = await register(client, email)
    tokens = assert_token_response(await password_grant(client, email))
    me = await client.get("/users/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 200, me.text
    assert me.json()["id"] == user["id"]


async def test_the_password_grant_takes_the_email_in_any_case_as_username(client: httpx.AsyncClient) -> None:
    email = unique_email()
    await register(client, email)
    assert_token_response(await password_grant(client, f"  {email.upper()} "))


async def test_requested_scopes_are_not_granted(client: httpx.AsyncClient) -> None:
    email = unique_email()
    await register(client, email)
    tokens = assert_token_response(await password_grant(client, email, scope="admin items:write openid"))
    assert tokens["scope"] == ""
    assert claims_of(tokens["access_token"])["scope"] == ""


async def test_a_client_id_parameter_is_ignored(client: httpx.AsyncClient) -> None:
    email = unique_email()
    await register(client, email)
    assert_token_response(await password_grant(client, email, client_id="some-first-party-app"))


async def test_unrecognised_parameters_are_ignored(client: httpx.AsyncClient) -> None:
    email = unique_email()
    await register(client, email)
    assert_token_response(await password_grant(client, email, client_secret="whatever", state="xyz", audience="a"))


async def test_a_basic_authorization_header_is_ignored(client: httpx.AsyncClient) -> None:
    email = unique_email()
    await register(client, email)
    response = await client.post("/auth/token", auth=("first-party-app", ""),
                                 data={"grant_type": "password", "username": email, "password": PASSWORD})
    assert_token_response(response)


async def test_a_charset_parameter_on_the_form_content_type_is_accepted(client: httpx.AsyncClient) -> None:
    email = unique_email()
    await register(client, email)
    body = httpx.QueryParams({"grant_type": "password", "username": email, "password": PASSWORD})
    response = await client.post("/auth/token", content=str(body).encode(),
                                 headers={"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"})
    assert_token_response(response)


async def test_a_wrong_password_is_400_invalid_grant(client: httpx.AsyncClient) -> None:
    email = unique_email()
    await register(client, email)
    response = await password_grant(client, email, "not the password")
    assert_oauth_error(response, 400, "invalid_grant")
    assert response.headers["cache-control"] == "no-store"


async def test_an_unknown_user_is_400_invalid_grant_like_a_wrong_password(client: httpx.AsyncClient) -> None:
    email = unique_email()
    await register(client, email)
    wrong = await password_grant(client, email, "not the password")
    unknown = await password_grant(client, unique_email(), "not the password")
    assert_oauth_error(unknown, 400, "invalid_grant")
    assert unknown.json() == wrong.json()


async def test_a_json_body_is_400_invalid_request(client: httpx.AsyncClient) -> None:
    email = unique_email()
    await register(client, email)
    response = await client.post("/auth/token",
                                 json={"grant_type": "password", "username": email, "password": PASSWORD})
    assert_oauth_error(response, 400, "invalid_request")


async def test_a_missing_grant_type_is_400_invalid_request(client: httpx.AsyncClient) -> None:
    email = unique_email()
    await register(client, email)
    response = await token_grant(client, username=email, password=PASSWORD)
    assert_oauth_error(response, 400, "invalid_request")


async def test_an_empty_body_is_400_invalid_request(client: httpx.AsyncClient) -> None:
    response = await client.post("/auth/token", content=b"",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_oauth_error(response, 400, "invalid_request")


@pytest.mark.parametrize("grant_type",
                         ["client_credentials", "authorization_code", "urn:ietf:params:oauth:x", "PASSWORD"])
async def test_an_unknown_grant_type_is_400_unsupported_grant_type(client: httpx.AsyncClient, grant_type: str) -> None:
    response = await token_grant(client, grant_type=grant_type, username=unique_email(), password=PASSWORD)
    assert_oauth_error(response, 400, "unsupported_grant_type")


@pytest.mark.parametrize("missing", ["username", "password"])
async def test_a_password_grant_without_credentials_is_400_invalid_request(client: httpx.AsyncClient,
                                                                           missing: str) -> None:
    form = {"grant_type": "password", "username": unique_email(), "password": PASSWORD}
    del form[missing]
    assert_oauth_error(await token_grant(client, **form), 400, "invalid_request")


async def test_a_refresh_grant_without_a_refresh_token_is_400_invalid_request(client: httpx.AsyncClient) -> None:
    assert_oauth_error(await token_grant(client, grant_type="refresh_token"), 400, "invalid_request")


async def test_a_repeated_parameter_is_400_invalid_request(client: httpx.AsyncClient) -> None:
    email = unique_email()
    await register(client, email)
    body = f"grant_type=password&username={email}&password=x&password={PASSWORD.replace(' ', '+')}"
    response = await client.post("/auth/token", content=body.encode(),
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_oauth_error(response, 400, "invalid_request")


async def test_a_nul_byte_in_a_parameter_is_400_invalid_request(client: httpx.AsyncClient) -> None:
    response = await token_grant(client, grant_type="password", username="a\x00@example.com", password=PASSWORD)
    assert_oauth_error(response, 400, "invalid_request")


# --- refresh_token grant -------------------------------------------------------------------------

async def test_the_refresh_grant_rotates_the_refresh_token_and_keeps_the_session(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    first = alice.tokens
    second = assert_token_response(await token_grant(client, grant_type="refresh_token",
                                                     refresh_token=first["refresh_token"]))
    assert second["refresh_token"] != first["refresh_token"]
    assert claims_of(second["access_token"])["sid"] == claims_of(first["access_token"])["sid"]
    assert (await client.get("/users/me", headers=bearer(second["access_token"]))).status_code == 200


async def test_a_refresh_token_from_the_token_endpoint_works_at_auth_refresh(client: httpx.AsyncClient) -> None:
    email = unique_email()
    await register(client, email)
    tokens = assert_token_response(await password_grant(client, email))
    response = await client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert_token_response(response)


async def test_an_unknown_refresh_token_is_400_invalid_grant(client: httpx.AsyncClient) -> None:
    response = await token_grant(client, grant_type="refresh_token", refresh_token="x" * 43)
    assert_oauth_error(response, 400, "invalid_grant")


async def test_a_spent_refresh_token_is_400_invalid_grant_and_ends_the_session(client: httpx.AsyncClient) -> None:
    alice: Account = await account(client)
    spent = alice.tokens["refresh_token"]
    winner = assert_token_response(await token_grant(client, grant_type="refresh_token", refresh_token=spent))
    assert_oauth_error(await token_grant(client, grant_type="refresh_token", refresh_token=spent),
                       400, "invalid_grant")
    assert_oauth_error(await token_grant(client, grant_type="refresh_token", refresh_token=winner["refresh_token"]),
                       400, "invalid_grant")
    assert (await client.get("/users/me", headers=bearer(winner["access_token"]))).status_code == 401


async def test_an_access_token_is_not_a_refresh_token(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    response = await token_grant(client, grant_type="refresh_token", refresh_token=alice.tokens["access_token"])
    assert_oauth_error(response, 400, "invalid_grant")


async def test_reuse_detected_at_the_token_endpoint_notifies_the_user(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    spent = alice.tokens["refresh_token"]
    await token_grant(client, grant_type="refresh_token", refresh_token=spent)
    await token_grant(client, grant_type="refresh_token", refresh_token=spent)
    again = Account(alice.email, alice.password, alice.user, await login(client, alice.email))
    reuse = [n for n in await notifications_of(client, again) if n["kind"] == "refresh_token_reuse"]
    assert [n["status"] for n in reuse] == ["delivered"]
