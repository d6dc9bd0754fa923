"""Bearer authentication (RFC 6750) on the protected endpoints: every failing token is a 401."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
import uuid

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from tests.api.conftest import Forge, b64url, b64url_json
from tests.api.helpers import (
    account,
    assert_invalid_token,
    assert_problem,
    bearer,
    claims_of,
    header_of,
    refresh,
)
from tests.conftest import ISSUER, AppFactory, client_for

SOME_ID = "0b6c1f4e-3f1d-4c2a-9a57-5d2f0c8e7a11"
PROTECTED = [("GET", "/users/me"), ("PATCH", "/users/me"), ("POST", "/users/me/password"),
             ("GET", "/items/"), ("POST", "/items/"), ("GET", f"/items/{SOME_ID}"),
             ("GET", "/auth/sessions"), ("DELETE", f"/auth/sessions/{SOME_ID}"),
             ("POST", "/auth/logout-all"), ("GET", "/notifications"), ("POST", "/notifications")]


# --- no token ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("method", "path"), PROTECTED)
async def test_a_request_without_a_token_is_401_not_authenticated(client: httpx.AsyncClient, method: str,
                                                                  path: str) -> None:
    response = await client.request(method, path, json={})
    assert_problem(response, 401, "not_authenticated")
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("authorization", ["Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token abc"])
async def test_an_authorization_header_without_a_bearer_token_is_401(client: httpx.AsyncClient,
                                                                     authorization: str) -> None:
    response = await client.get("/users/me", headers={"Authorization": authorization})
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("method", "path"), PROTECTED)
async def test_a_garbage_token_is_401_invalid_token(client: httpx.AsyncClient, method: str, path: str) -> None:
    response = await client.request(method, path, json={}, headers=bearer("garbage"))
    assert_invalid_token(response)


@pytest.mark.parametrize("token", ["a.b.c", "eyJ.eyJ.sig", "x" * 10_000, "....", "ünïcode.tøken.here"])
async def test_malformed_tokens_are_401_invalid_token(client: httpx.AsyncClient, token: str) -> None:
    response = await client.get("/users/me", headers={b"Authorization": f"Bearer {token}".encode()})
    assert_invalid_token(response)


async def test_the_bearer_scheme_name_is_case_insensitive(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    response = await client.get("/users/me", headers={"Authorization": f"bearer {alice.tokens['access_token']}"})
    assert response.status_code == 200, response.text


async def test_a_refresh_token_is_not_an_access_token(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    assert_invalid_token(await client.get("/users/me", headers=bearer(alice.tokens["refresh_token"])))


# --- each check ----------------------------------------------------------------------------------

async def test_a_correctly_forged_token_is_accepted_so_the_refusals_below_are_meaningful(forge: Forge) -> None:
    response = await forge.me(forge.token())
    assert response.status_code == 200, response.text


async def test_an_expired_token_is_refused(forge: Forge) -> None:
    past = int(time.time()) - 3600
    assert_invalid_token(await forge.me(forge.token(iat=past, exp=past + 900)))


async def test_a_token_issued_in_the_future_is_refused(forge: Forge) -> None:
    future = int(time.time()) + 3600
    assert_invalid_token(await forge.me(forge.token(iat=future, exp=future + 900)))


async def test_a_token_with_a_wrong_signature_is_refused(forge: Forge) -> None:
    token = forge.token()
    head, payload, signature = token.split(".")
    flipped = b64url(bytes(b ^ 1 for b in base64.urlsafe_b64decode(signature + "==")))
    assert_invalid_token(await forge.me(f"{head}.{payload}.{flipped}"))


async def test_a_token_signed_by_another_key_under_our_kid_is_refused(forge: Forge) -> None:
    stranger = ed25519.Ed25519PrivateKey.generate()
    kid = forge.container.keyring().signing_kid
    token = jwt.encode(forge.claims(), stranger, algorithm="EdDSA", headers={"kid": kid, "typ": "at+jwt"})
    assert_invalid_token(await forge.me(token))


async def test_tampered_claims_are_refused(forge: Forge) -> None:
    token = forge.token()
    head, _, signature = token.split(".")
    payload = b64url_json(forge.claims(sub=str(uuid.uuid4())))
    assert_invalid_token(await forge.me(f"{head}.{payload}.{signature}"))


@pytest.mark.parametrize("typ", ["JWT", "jwt", "at+JWS", "refresh+jwt", None])
async def test_a_token_whose_typ_is_not_at_jwt_is_refused(forge: Forge, typ: str | None) -> None:
    token = forge.token({"typ": typ})
    assert header_of(token).get("typ") == typ
    assert_invalid_token(await forge.me(token))


async def test_a_token_with_a_wrong_issuer_is_refused(forge: Forge) -> None:
    assert_invalid_token(await forge.me(forge.token(iss="https://evil.example")))


async def test_a_token_with_a_wrong_audience_is_refused(forge: Forge) -> None:
    assert_invalid_token(await forge.me(forge.token(aud="someone-else")))


@pytest.mark.parametrize("claim", ["iss", "aud", "sub", "sid", "exp", "iat"])
async def test_a_token_missing_a_required_claim_is_refused(forge: Forge, claim: str) -> None:
    assert_invalid_token(await forge.me(forge.token(**{claim: None})))


async def test_a_token_naming_a_session_that_does_not_exist_is_refused(forge: Forge) -> None:
    assert_invalid_token(await forge.me(forge.token(sid=str(uuid.uuid4()))))


async def test_a_token_with_an_unknown_kid_is_refused(forge: Forge) -> None:
    assert_invalid_token(await forge.me(forge.token({"kid": "no-such-key"})))


async def test_an_unsigned_alg_none_token_is_refused(forge: Forge) -> None:
    header = {"alg": "none", "typ": "at+jwt", "kid": forge.container.keyring().signing_kid}
    token = f"{b64url_json(header)}.{b64url_json(forge.claims())}."
    assert_invalid_token(await forge.me(token))


async def test_an_hs256_token_keyed_with_the_public_key_is_refused(forge: Forge) -> None:
    keyring = forge.container.keyring()
    public = keyring.verification_keys[keyring.signing_kid].public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    header = {"alg": "HS256", "typ": "at+jwt", "kid": keyring.signing_kid}
    signing_input = f"{b64url_json(header)}.{b64url_json(forge.claims())}"
    signature = b64url(hmac.new(public, signing_input.encode(), hashlib.sha256).digest())
    assert_invalid_token(await forge.me(f"{signing_input}.{signature}"))


async def test_a_token_from_another_gatehouse_with_the_same_settings_is_refused(
        forge: Forge, app_factory: AppFactory) -> None:
    other_app, _ = await app_factory(jwt_private_key=ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode())
    async with client_for(other_app) as other:
        foreign = await account(other)
    assert header_of(foreign.tokens["access_token"])["kid"] != forge.container.keyring().signing_kid
    assert claims_of(foreign.tokens["access_token"])["iss"] == ISSUER
    assert_invalid_token(await forge.me(foreign.tokens["access_token"]))


# --- revoked sessions ----------------------------------------------------------------------------

async def test_a_logged_out_sessions_access_token_is_refused_on_the_next_request(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    assert (await client.get("/users/me", headers=alice.auth)).status_code == 200  # warms any cache
    assert (await client.post("/auth/logout", json={"refresh_token": alice.tokens["refresh_token"]})).status_code \
        == 204
    assert_invalid_token(await client.get("/users/me", headers=alice.auth))


async def test_a_revoked_sessions_access_token_is_refused_on_the_next_request(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    assert (await client.get("/items/", headers=alice.auth)).status_code == 200
    assert (await client.post("/auth/revoke", data={"token": alice.tokens["access_token"]})).status_code == 200
    assert_invalid_token(await client.get("/items/", headers=alice.auth))


async def test_a_session_revoked_through_another_app_instance_is_refused_within_a_second(
        app_factory: AppFactory) -> None:
    first, _ = await app_factory()
    second, _ = await app_factory()
    async with client_for(first) as one, client_for(second) as two:
        alice = await account(one)
        assert (await two.get("/users/me", headers=alice.auth)).status_code == 200  # cached as live on two
        assert (await one.post("/auth/logout", json={"refresh_token": alice.tokens["refresh_token"]})).status_code \
            == 204
        await asyncio.sleep(1.05)
        assert_invalid_token(await two.get("/users/me", headers=alice.auth))


async def test_a_token_of_a_session_ended_by_refresh_token_reuse_is_refused(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    assert (await client.get("/users/me", headers=alice.auth)).status_code == 200
    spent = alice.tokens["refresh_token"]
    await refresh(client, spent)
    await refresh(client, spent)
    assert_invalid_token(await client.get("/users/me", headers=alice.auth))
