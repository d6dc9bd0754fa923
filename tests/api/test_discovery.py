"""Health, readiness, JWKS and RFC 8414 metadata, and the access token as a third party sees it."""

from __future__ import annotations

from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from dependency_injector import providers
from sqlalchemy.ext.asyncio import create_async_engine

from api.container import Container
from infrastructure.db.probe import DatabaseProbe
from tests.api.helpers import account, assert_problem, bearer, claims_of, header_of, login, register, unique_email
from tests.conftest import ISSUER, AppFactory, client_for

PRIVATE_JWK_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "k"}


async def _metadata(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/.well-known/oauth-authorization-server")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def _jwks(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await client.get("/.well-known/jwks.json")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"keys"}
    return list(body["keys"])


# --- health --------------------------------------------------------------------------------------

async def test_health_is_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readiness_reports_the_database_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/ready")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok", "database": "ok"}


async def test_readiness_is_503_when_the_database_is_unreachable(app_factory: AppFactory) -> None:
    unreachable = create_async_engine("postgresql+asyncpg://nobody@127.0.0.1:9/nowhere")

    def cut_the_database(c: Container) -> None:
        c.database_probe.override(providers.Singleton(DatabaseProbe, unreachable, timeout_seconds=2.0))

    app, _ = await app_factory(container_setup=cut_the_database)
    async with client_for(app) as client:
        response = await client.get("/health/ready")
        assert_problem(response, 503)
        assert (await client.get("/health")).status_code == 200  # the process is alive
    await unreachable.dispose()


# --- RFC 8414 metadata ---------------------------------------------------------------------------

async def test_the_metadata_names_the_issuer_and_endpoints(client: httpx.AsyncClient) -> None:
    metadata = await _metadata(client)
    assert metadata["issuer"] == ISSUER
    assert metadata["token_endpoint"] == f"{ISSUER}/auth/token"
    assert metadata["revocation_endpoint"] == f"{ISSUER}/auth/revoke"
    assert metadata["jwks_uri"] == f"{ISSUER}/.well-known/jwks.json"
    assert {"password", "refresh_token"} <= set(metadata["grant_types_supported"])


async def test_the_endpoints_named_in_the_metadata_answer(client: httpx.AsyncClient) -> None:
    metadata = await _metadata(client)
    jwks = await client.get(metadata["jwks_uri"])
    assert jwks.status_code == 200
    email = unique_email()
    await register(client, email)
    token = await client.post(metadata["token_endpoint"],
                              data={"grant_type": "password", "username": email,
                                    "password": "correct horse battery staple"})
    assert token.status_code == 200, token.text
    revoked = await client.post(metadata["revocation_endpoint"], data={"token": token.json()["refresh_token"]})
    assert revoked.status_code == 200


async def test_the_access_tokens_iss_equals_the_metadata_issuer(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    assert claims_of(alice.tokens["access_token"])["iss"] == (await _metadata(client))["issuer"]


async def test_the_issuer_has_no_trailing_slash_even_when_configured_with_one(app_factory: AppFactory) -> None:
    app, _ = await app_factory(issuer=f"{ISSUER}/")
    async with client_for(app) as client:
        metadata = await _metadata(client)
        alice = await account(client)
        assert claims_of(alice.tokens["access_token"])["iss"] == metadata["issuer"]
        assert (await client.get("/users/me", headers=alice.auth)).status_code == 200


# --- the access token ----------------------------------------------------------------------------

async def test_the_access_token_carries_the_rfc_9068_claims(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    claims = claims_of(alice.tokens["access_token"])
    assert {"iss", "aud", "sub", "sid", "jti", "iat", "exp", "scope"} <= set(claims)
    assert claims["sub"] == alice.user["id"]
    assert claims["aud"] == "gatehouse"
    assert claims["scope"] == ""
    assert claims["exp"] - claims["iat"] == 900
    other = claims_of((await login(client, alice.email))["access_token"])
    assert other["jti"] != claims["jti"]
    assert other["sid"] != claims["sid"]


@pytest.mark.parametrize("algorithm", ["EdDSA", "ES256", "RS256"])
async def test_the_token_header_is_at_jwt_with_a_kid_published_in_the_jwks(app_factory: AppFactory,
                                                                           algorithm: str) -> None:
    app, _ = await app_factory(jwt_algorithm=algorithm)
    async with client_for(app) as client:
        alice = await account(client)
        token = alice.tokens["access_token"]
        header = header_of(token)
        assert header["typ"] == "at+jwt"
        assert header["alg"] == algorithm
        keys = {k["kid"]: k for k in await _jwks(client)}
        assert header["kid"] in keys
        for key in keys.values():
            assert not PRIVATE_JWK_MEMBERS & set(key), key
        # a third party can verify the token from the published key alone
        public = jwt.PyJWK(keys[header["kid"]], algorithm=algorithm)
        claims = jwt.decode(token, public.key, algorithms=[algorithm], audience="gatehouse", issuer=ISSUER)
        assert claims["sub"] == alice.user["id"]
        assert (await client.get("/users/me", headers=alice.auth)).status_code == 200


async def test_with_hs256_the_jwks_is_empty_and_tokens_still_work(app_factory: AppFactory) -> None:
    app, _ = await app_factory(jwt_algorithm="HS256", jwt_secret="s3cr3t-" * 6)
    async with client_for(app) as client:
        assert await _jwks(client) == []
        alice = await account(client)
        assert header_of(alice.tokens["access_token"])["alg"] == "HS256"
        assert (await client.get("/users/me", headers=alice.auth)).status_code == 200


def _pem_pair() -> tuple[str, str]:
    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


async def test_tokens_signed_by_the_previous_key_keep_verifying_after_a_key_rotation(
        app_factory: AppFactory) -> None:
    old_private, old_public = _pem_pair()
    new_private, _ = _pem_pair()
    before, _ = await app_factory(jwt_private_key=old_private)
    async with client_for(before) as client:
        alice = await account(client)
        old_kid = header_of(alice.tokens["access_token"])["kid"]

    after, _ = await app_factory(jwt_private_key=new_private, jwt_verify_keys=[old_public])
    async with client_for(after) as client:
        assert (await client.get("/users/me", headers=alice.auth)).status_code == 200
        fresh = await login(client, alice.email)
        new_kid = header_of(fresh["access_token"])["kid"]
        assert new_kid != old_kid
        assert {old_kid, new_kid} <= {k["kid"] for k in await _jwks(client)}
        assert (await client.get("/users/me", headers=bearer(fresh["access_token"]))).status_code == 200


async def test_tokens_of_a_key_that_was_dropped_are_refused(app_factory: AppFactory) -> None:
    old_private, _ = _pem_pair()
    new_private, _ = _pem_pair()
    before, _ = await app_factory(jwt_private_key=old_private)
    async with client_for(before) as client:
        alice = await account(client)
    after, _ = await app_factory(jwt_private_key=new_private)
    async with client_for(after) as client:
        response = await client.get("/users/me", headers=alice.auth)
        assert_problem(response, 401, "invalid_token")


async def test_every_operation_in_the_openapi_document_has_a_summary_and_a_description(
        client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    operations = [(method, path, op) for path, ops in spec["paths"].items() for method, op in ops.items()]
    assert len(operations) >= 23
    undescribed = [f"{m.upper()} {p}" for m, p, op in operations
                   if not op.get("summary") or len(op.get("description", "")) < 20]
    assert undescribed == []
