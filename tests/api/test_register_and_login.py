"""POST /auth/register and POST /auth/login: accounts, email normalisation, password policy, rate limiting."""

from __future__ import annotations

import asyncio
import statistics
import time

import httpx
import pytest
from fastapi import FastAPI

from tests.api.helpers import (
    PASSWORD,
    assert_problem,
    assert_token_response,
    claims_of,
    login,
    parse_time,
    password_grant,
    register,
    unique_email,
)
from tests.conftest import AppFactory, client_for

USER_FIELDS = {"id", "email", "full_name", "created_at", "email_verified", "roles"}


# --- register ------------------------------------------------------------------------------------

async def test_registering_returns_201_and_the_user_without_any_password_material(
        client: httpx.AsyncClient) -> None:
    email = unique_email()
    response = await client.post("/auth/register",
                                 json={"email": email, "password": PASSWORD, "full_name": "Alice Liddell"})
    assert response.status_code == 201, response.text
    user = response.json()
    assert set(user) == USER_FIELDS
    assert user["email"] == email
    assert user["full_name"] == "Alice Liddell"
    parse_time(user["created_at"])
    assert PASSWORD not in response.text
    assert "argon2" not in response.text.lower()


async def test_a_full_name_that_was_never_set_is_null(client: httpx.AsyncClient) -> None:
    user = await register(client)
    assert user["full_name"] is None


async def test_registering_an_email_twice_is_409_email_taken(client: httpx.AsyncClient) -> None:
    email = unique_email()
    await register(client, email)
    response = await client.post("/auth/register", json={"email": email, "password": PASSWORD})
    assert_problem(response, 409, "email_taken")


async def test_an_email_is_stored_trimmed_and_lowercased(client: httpx.AsyncClient) -> None:
    user = await register(client, " Alice@Example.COM ")
    assert user["email"] == "alice@example.com"


async def test_an_email_is_stored_in_unicode_nfc(client: httpx.AsyncClient) -> None:
    decomposed = "Ze\u0301lie@example.com"  # "e" + combining acute accent
    user = await register(client, decomposed)
    assert user["email"] == "z\u00e9lie@example.com"
    # the composed spelling is the same account
    response = await client.post("/auth/register", json={"email": "Z\u00e9lie@example.com", "password": PASSWORD})
    assert_problem(response, 409, "email_taken")


async def test_non_ascii_letters_are_lowercased_too(client: httpx.AsyncClient) -> None:
    user = await register(client, "\u00c9MILE@Example.com")
    assert user["email"] == "\u00e9mile@example.com"
    assert_token_response(await client.post("/auth/login",
                                            json={"email": "\u00e9mile@EXAMPLE.com", "password": PASSWORD}))


async def test_concurrent_registrations_of_one_email_in_different_cases_create_one_account(
        client: httpx.AsyncClient) -> None:
    spellings = ["Race@Example.com", "race@example.com", "RACE@EXAMPLE.COM", " race@example.com", "race@Example.COM"]
    responses = await asyncio.gather(*(client.post("/auth/register", json={"email": e, "password": PASSWORD})
                                       for e in spellings))
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409, 409], [r.text for r in responses]
    for response in responses:
        if response.status_code == 409:
            assert_problem(response, 409, "email_taken")


async def test_registering_the_same_email_in_another_case_is_409(client: httpx.AsyncClient) -> None:
    await register(client, " Alice@Example.COM ")
    response = await client.post("/auth/register", json={"email": "ALICE@example.com", "password": PASSWORD})
    assert_problem(response, 409, "email_taken")


async def test_logging_in_works_with_any_case_and_surrounding_spaces(client: httpx.AsyncClient) -> None:
    await register(client, " Alice@Example.COM ")
    for spelling in ("alice@example.com", "ALICE@EXAMPLE.COM", "  aLiCe@eXaMpLe.cOm "):
        response = await client.post("/auth/login", json={"email": spelling, "password": PASSWORD})
        assert_token_response(response)


@pytest.mark.parametrize("email", ["not-an-email", "a@", "@example.com", "two@@example.com", "", "x" * 400 + "@ex.com"])
async def test_a_malformed_email_is_422_validation_error(client: httpx.AsyncClient, email: str) -> None:
    response = await client.post("/auth/register", json={"email": email, "password": PASSWORD})
    body = assert_problem(response, 422, "validation_error")
    assert body["errors"], body


@pytest.mark.parametrize("password", ["Qz7!kWp", "Qz7!k", "Qz7!kWp" * 146 + "Qz7"])
async def test_a_password_outside_8_to_1024_characters_is_422(client: httpx.AsyncClient, password: str) -> None:
    response = await client.post("/auth/register", json={"email": unique_email(), "password": password})
    body = assert_problem(response, 422, "validation_error")
    assert body["errors"]
    assert password not in response.text  # a rejected password is never echoed


async def test_passwords_of_exactly_8_and_1024_characters_are_accepted(client: httpx.AsyncClient) -> None:
    for password in ("Zq8#vLp2", "k" * 1016 + "Zq8#vLp2"):
        response = await client.post("/auth/register", json={"email": unique_email(), "password": password})
        assert response.status_code == 201, response.text


@pytest.mark.parametrize("password", ["password123", "PASSWORD123", "PaSsWoRd123", "Iloveyou1", "QWERTYUIOP"])
async def test_a_common_password_is_422_whatever_its_case(client: httpx.AsyncClient, password: str) -> None:
    response = await client.post("/auth/register", json={"email": unique_email(), "password": password})
    body = assert_problem(response, 422, "validation_error")
    assert any("password" in [str(p) for p in e["loc"]] for e in body["errors"]), body


async def test_register_without_a_password_field_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/auth/register", json={"email": unique_email()})
    body = assert_problem(response, 422, "validation_error")
    assert any(e["loc"][-1] == "password" for e in body["errors"]), body


# --- login ---------------------------------------------------------------------------------------

async def test_logging_in_returns_a_token_response_that_is_not_cached(client: httpx.AsyncClient) -> None:
    email = unique_email()
    user = await register(client, email)
    response = await client.post("/auth/login", json={"email": email, "password": PASSWORD})
    tokens = assert_token_response(response)
    assert tokens["expires_in"] == 900  # default 15 minutes
    assert claims_of(tokens["access_token"])["sub"] == user["id"]
    me = await client.get("/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.json()["id"] == user["id"]


async def test_a_refresh_token_is_url_safe_and_carries_at_least_256_bits(client: httpx.AsyncClient) -> None:
    email = unique_email()
    await register(client, email)
    tokens = [(await login(client, email))["refresh_token"] for _ in range(3)]
    for token in tokens:
        assert len(token) >= 43  # 256 bits in unpadded base64url
        assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), token
    assert len(set(tokens)) == 3


async def test_a_wrong_password_is_401_invalid_credentials(client: httpx.AsyncClient) -> None:
    email = unique_email()
    await register(client, email)
    response = await client.post("/auth/login", json={"email": email, "password": "not the password"})
    assert_problem(response, 401, "invalid_credentials")
    assert "access_token" not in response.text


async def test_an_unknown_email_gets_exactly_the_answer_of_a_wrong_password(client: httpx.AsyncClient) -> None:
    email = unique_email()
    await register(client, email)
    wrong_password = await client.post("/auth/login", json={"email": email, "password": "not the password"})
    unknown_email = await client.post("/auth/login", json={"email": unique_email(), "password": "not the password"})
    assert_problem(unknown_email, 401, "invalid_credentials")
    assert unknown_email.status_code == wrong_password.status_code
    assert unknown_email.json() == wrong_password.json()
    assert unknown_email.headers.get("www-authenticate") == wrong_password.headers.get("www-authenticate")


async def test_login_with_a_missing_field_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/auth/login", json={"email": unique_email()})
    assert_problem(response, 422, "validation_error")


# --- rate limiting -------------------------------------------------------------------------------

async def _fail(client: httpx.AsyncClient, email: str, via: str = "login") -> httpx.Response:
    if via == "login":
        return await client.post("/auth/login", json={"email": email, "password": "wrong password!"})
    return await password_grant(client, email, "wrong password!")


def _assert_rate_limited_problem(response: httpx.Response) -> None:
    assert_problem(response, 429, "rate_limited")
    assert int(response.headers["retry-after"]) > 0


async def test_five_failed_logins_make_the_sixth_attempt_429_with_retry_after(client: httpx.AsyncClient) -> None:
    email = unique_email()
    await register(client, email)
    for _ in range(5):
        assert_problem(await _fail(client, email), 401, "invalid_credentials")
    _assert_rate_limited_problem(await _fail(client, email))


async def test_the_addresses_of_one_ipv6_64_share_one_count(app: FastAPI, client: httpx.AsyncClient) -> None:
    email = unique_email()
    await register(client, email)
    statuses = []
    for n in range(20):  # twenty addresses of one subscriber's /64, two guesses each
        async with client_for(app, client=(f"2001:db8:0:7::{n + 1:x}", 50000)) as from_there:
            statuses += [(await _fail(from_there, email)).status_code for _ in range(2)]
    assert statuses.count(401) == 5
    assert statuses.count(429) == 35
    async with client_for(app, client=("2001:db8:0:8::1", 50000)) as next_network:
        assert (await _fail(next_network, email)).status_code == 401  # another /64: its own count


async def test_once_limited_even_the_correct_password_gets_429(client: httpx.AsyncClient) -> None:
    email = unique_email()
    await register(client, email)
    for _ in range(5):
        await _fail(client, email)
    response = await client.post("/auth/login", json={"email": email, "password": PASSWORD})
    _assert_rate_limited_problem(response)
    assert "access_token" not in response.text


async def test_unknown_emails_are_rate_limited_too(client: httpx.AsyncClient) -> None:
    email = unique_email("ghost")
    for _ in range(5):
        assert_problem(await _fail(client, email), 401, "invalid_credentials")
    _assert_rate_limited_problem(await _fail(client, email))


async def test_the_rate_limit_counts_the_normalised_email(client: httpx.AsyncClient) -> None:
    await register(client, "bob@example.com")
    for spelling in ("BOB@example.com", " bob@EXAMPLE.com", "Bob@Example.Com", "bob@example.com ", "BOB@EXAMPLE.COM"):
        assert_problem(await _fail(client, spelling), 401, "invalid_credentials")
    _assert_rate_limited_problem(await client.post("/auth/login",
                                                   json={"email": "bob@example.com", "password": PASSWORD}))


async def test_the_rate_limit_counts_the_nfc_form_of_the_email(client: httpx.AsyncClient) -> None:
    composed, decomposed = "ren\u00e9@example.com", "rene\u0301@example.com"
    await register(client, composed)
    for spelling in (decomposed, composed, decomposed.upper(), decomposed, composed):
        assert_problem(await _fail(client, spelling), 401, "invalid_credentials")
    _assert_rate_limited_problem(await client.post("/auth/login", json={"email": composed, "password": PASSWORD}))


async def test_a_successful_login_before_the_limit_resets_the_counter(client: httpx.AsyncClient) -> None:
    email = unique_email()
    await register(client, email)
    for _ in range(4):
        assert_problem(await _fail(client, email), 401, "invalid_credentials")
    await login(client, email)
    for _ in range(4):  # without the reset the second of these would already be the sixth failure
        assert_problem(await _fail(client, email), 401, "invalid_credentials")
    assert_token_response(await client.post("/auth/login", json={"email": email, "password": PASSWORD}))


async def test_login_and_the_token_endpoint_share_one_failure_counter(client: httpx.AsyncClient) -> None:
    email = unique_email()
    await register(client, email)
    for via in ("login", "token", "login", "token", "token"):
        assert (await _fail(client, email, via)).status_code in (400, 401)
    _assert_rate_limited_problem(await _fail(client, email, "login"))
    limited = await password_grant(client, email, PASSWORD)
    assert limited.status_code == 429, limited.text
    assert int(limited.headers["retry-after"]) > 0
    body = limited.json()
    assert body["error"] == "rate_limited"
    assert "error_description" in body


async def test_failures_on_the_token_endpoint_limit_the_login_endpoint(client: httpx.AsyncClient) -> None:
    email = unique_email()
    await register(client, email)
    for _ in range(5):
        assert (await _fail(client, email, "token")).status_code == 400
    _assert_rate_limited_problem(await client.post("/auth/login", json={"email": email, "password": PASSWORD}))


async def test_the_rate_limit_is_per_client_ip(app_factory: AppFactory) -> None:
    app, _ = await app_factory()
    email = unique_email()
    async with client_for(app, client=("198.51.100.1", 4000)) as first, \
            client_for(app, client=("198.51.100.2", 4000)) as second:
        await register(first, email)
        for _ in range(5):
            await _fail(first, email)
        _assert_rate_limited_problem(await _fail(first, email))
        assert_token_response(await second.post("/auth/login", json={"email": email, "password": PASSWORD}))


async def test_the_rate_limit_is_per_email(client: httpx.AsyncClient) -> None:
    limited, other = unique_email(), unique_email()
    await register(client, limited)
    await register(client, other)
    for _ in range(5):
        await _fail(client, limited)
    _assert_rate_limited_problem(await _fail(client, limited))
    assert_token_response(await client.post("/auth/login", json={"email": other, "password": PASSWORD}))


async def test_the_failure_limit_follows_the_configured_maximum(app_factory: AppFactory) -> None:
    app, _ = await app_factory(login_max_failures=2)
    async with client_for(app) as client:
        email = unique_email()
        await register(client, email)
        for _ in range(2):
            assert_problem(await _fail(client, email), 401, "invalid_credentials")
        _assert_rate_limited_problem(await _fail(client, email))


async def test_the_limit_lifts_once_the_window_passes(app_factory: AppFactory) -> None:
    app, _ = await app_factory(login_max_failures=1, login_failure_window_seconds=1)
    async with client_for(app) as client:
        email = unique_email()
        await register(client, email)
        await _fail(client, email)
        limited = await client.post("/auth/login", json={"email": email, "password": PASSWORD})
        _assert_rate_limited_problem(limited)
        assert int(limited.headers["retry-after"]) <= 1
        await asyncio.sleep(1.1)
        assert_token_response(await client.post("/auth/login", json={"email": email, "password": PASSWORD}))


async def test_an_unknown_email_takes_as_long_as_a_wrong_password(app_factory: AppFactory) -> None:
    """Coarse on purpose: with production hashing costs, skipping the hash for an unknown email would
    make those answers several times faster than the ones for a registered email."""
    app, _ = await app_factory(argon2_time_cost=2, argon2_memory_kib=19_456, login_max_failures=1000)
    async with client_for(app) as client:
        known = unique_email()
        await register(client, known)
        timings: dict[str, list[float]] = {"known": [], "unknown": []}
        for _ in range(7):
            for kind, email in (("known", known), ("unknown", unique_email("ghost"))):
                started = time.perf_counter()
                response = await client.post("/auth/login", json={"email": email, "password": "wrong password!"})
                timings[kind].append(time.perf_counter() - started)
                assert response.status_code == 401
        known_median, unknown_median = statistics.median(timings["known"]), statistics.median(timings["unknown"])
        assert unknown_median > 0.5 * known_median, timings
