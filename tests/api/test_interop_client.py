"""A stock OAuth 2.0 client library (Authlib) talks to the token endpoint without special-casing Gatehouse."""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from authlib.deprecate import AuthlibDeprecationWarning  # importing it installs Authlib's own filter
from authlib.integrations.base_client import OAuthError
from fastapi import FastAPI

from tests.api.helpers import assert_problem, claims_of, register, unique_email
from tests.conftest import ISSUER

with warnings.catch_warnings():
    # Authlib announces that its httpx integration will move to httpx2: a note for it, not for us.
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client

TOKEN_URL = f"{ISSUER}/auth/token"
REVOKE_URL = f"{ISSUER}/auth/revoke"
PASSWORD = "correct horse battery staple"


@pytest_asyncio.fixture(loop_scope="session")
async def oauth(app: FastAPI) -> AsyncIterator[AsyncOAuth2Client]:
    client = AsyncOAuth2Client(client_id="gatehouse-interop-test", token_endpoint_auth_method="none",
                               revocation_endpoint_auth_method="none",
                               transport=httpx.ASGITransport(app=app, client=("203.0.113.9", 50000)),
                               base_url=ISSUER)
    async with client:
        yield client


async def _registered(oauth: AsyncOAuth2Client) -> tuple[str, dict[str, Any]]:
    email = unique_email("authlib")
    async with httpx.AsyncClient(transport=oauth._transport, base_url=ISSUER) as plain:
        user = await register(plain, email, PASSWORD)
    return email, user


async def test_authlib_performs_the_password_grant_and_the_token_works(oauth: AsyncOAuth2Client) -> None:
    email, user = await _registered(oauth)
    token = await oauth.fetch_token(TOKEN_URL, grant_type="password", username=email, password=PASSWORD)
    assert token["token_type"] == "Bearer"
    assert token["refresh_token"]
    assert token["expires_at"] > 0  # Authlib derived it from expires_in
    me = await oauth.get("/users/me")  # Authlib adds the bearer header itself
    assert me.status_code == 200, me.text
    assert me.json()["id"] == user["id"]


async def test_authlib_performs_the_refresh_grant_and_the_new_token_works(oauth: AsyncOAuth2Client) -> None:
    email, user = await _registered(oauth)
    first = dict(await oauth.fetch_token(TOKEN_URL, grant_type="password", username=email, password=PASSWORD))
    second = await oauth.refresh_token(TOKEN_URL, refresh_token=first["refresh_token"])
    assert second["refresh_token"] != first["refresh_token"]
    assert claims_of(second["access_token"])["sid"] == claims_of(first["access_token"])["sid"]
    assert oauth.token["access_token"] == second["access_token"]
    me = await oauth.get("/users/me")
    assert me.status_code == 200, me.text
    assert me.json()["id"] == user["id"]


async def test_authlib_asking_for_a_scope_gets_none(oauth: AsyncOAuth2Client) -> None:
    email, _ = await _registered(oauth)
    token = await oauth.fetch_token(TOKEN_URL, grant_type="password", username=email, password=PASSWORD,
                                    scope="items:read")
    assert token["scope"] == ""


async def test_authlib_sees_a_wrong_password_as_an_oauth_error(oauth: AsyncOAuth2Client) -> None:
    email, _ = await _registered(oauth)
    with pytest.raises(OAuthError) as raised:
        await oauth.fetch_token(TOKEN_URL, grant_type="password", username=email, password="nope nope")
    assert raised.value.error == "invalid_grant"


async def test_authlib_revokes_the_refresh_token_and_the_session_ends(oauth: AsyncOAuth2Client) -> None:
    email, _ = await _registered(oauth)
    token = dict(await oauth.fetch_token(TOKEN_URL, grant_type="password", username=email, password=PASSWORD))
    response = await oauth.revoke_token(REVOKE_URL, token=token["refresh_token"], token_type_hint="refresh_token")
    assert response.status_code == 200, response.text
    me = await oauth.get("/users/me")
    assert_problem(me, 401, "invalid_token")
