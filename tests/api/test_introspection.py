"""POST /auth/introspect (RFC 7662, contract v2 "Other services") and the RFC 8414 metadata's two new fields,
on SQLite and Postgres. Clients are made as the operator makes them (`gatehouse clients create`'s use case)."""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any
from urllib.parse import quote_plus

import httpx
import pytest
from fastapi import FastAPI

from api.container import Container
from application.administration import SYSTEM
from tests.api.helpers import account, claims_of, login, refresh
from tests.conftest import AppFactory, client_for

ACTIVE_FIELDS = {"active", "token_type", "sub", "sid", "iss", "aud", "exp", "iat", "jti", "scope", "roles",
                 "client_id"}


def container_of(app: FastAPI) -> Container:
    container: Container = app.state.container
    return container


async def service_client(app: FastAPI, name: str | None = None) -> dict[str, str]:
    """An Authorization header of a new service client (RFC 6749 §2.3.1: each part form-encoded)."""
    client, secret = await container_of(app).create_service_client().execute(name or f"svc-{uuid.uuid4().hex[:6]}")
    return {"Authorization": basic(client.client_id, secret)}


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()).decode()


async def introspect(client: httpx.AsyncClient, auth: dict[str, str], **form: str) -> httpx.Response:
    return await client.post("/auth/introspect", data=form, headers=auth)


async def test_an_active_access_token_is_described_with_the_users_roles_now(client: httpx.AsyncClient,
                                                                            app: FastAPI) -> None:
    auth = await service_client(app)
    alice = await account(client)
    token = alice.tokens["access_token"]
    await container_of(app).update_user().execute(SYSTEM, uuid.UUID(alice.user["id"]), roles=("support",))
    answer = await introspect(client, auth, token=token, token_type_hint="access_token")
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert set(body) == ACTIVE_FIELDS
    claims = claims_of(token)
    assert body["active"] is True
    assert body["token_type"] == "Bearer"
    assert body["client_id"] is None
    assert body["roles"] == ["support"]  # the user's roles now; the token itself still says []
    assert claims["roles"] == []
    for name in ("sub", "sid", "iss", "aud", "exp", "iat", "jti", "scope"):
        assert body[name] == claims[name], name


@pytest.mark.parametrize("what", ["logged out", "all sessions ended", "disabled", "deleted", "refresh token",
                                  "forged", "garbage", "expired"])
async def test_anything_else_is_inactive_and_nothing_more(client: httpx.AsyncClient, app: FastAPI,
                                                          what: str) -> None:
    auth = await service_client(app)
    alice = await account(client)
    token = alice.tokens["access_token"]
    user_id = uuid.UUID(alice.user["id"])
    container = container_of(app)
    if what == "logged out":
        assert (await client.post("/auth/logout", json={"refresh_token": alice.tokens["refresh_token"]})
                ).status_code == 204
    elif what == "all sessions ended":
        assert (await client.post("/auth/logout-all", headers=alice.auth)).status_code == 204
    elif what == "disabled":
        await container.disable_user().execute(SYSTEM, user_id, None)
    elif what == "deleted":
        await container.delete_user().execute(SYSTEM, user_id)
    elif what == "refresh token":
        token = alice.tokens["refresh_token"]
    elif what == "forged":
        head, body, _ = token.split(".")
        token = f"{head}.{body}.{base64.urlsafe_b64encode(b'x' * 64).decode().rstrip('=')}"
    elif what == "garbage":
        token = "not a token at all"
    elif what == "expired":
        token = await _expired_token(container, alice.tokens)
    answer = await introspect(client, auth, token=token)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"active": False}
    assert answer.headers["cache-control"] == "no-store"


async def _expired_token(container: Container, tokens: dict[str, Any]) -> str:
    """The same claims, expired past the leeway, signed with the service's own key."""
    import jwt

    keyring = container.keyring()
    claims = {**claims_of(tokens["access_token"]), "iat": int(time.time()) - 3600, "exp": int(time.time()) - 600}
    return jwt.encode(claims, keyring.signing_key, algorithm=keyring.algorithm,
                      headers={"kid": keyring.signing_kid, "typ": "at+jwt"})


async def test_a_refreshed_sessions_new_token_is_active(client: httpx.AsyncClient, app: FastAPI) -> None:
    auth = await service_client(app)
    alice = await account(client)
    rotated = (await refresh(client, alice.tokens["refresh_token"])).json()
    assert (await introspect(client, auth, token=rotated["access_token"])).json()["active"] is True


@pytest.mark.parametrize("header", [None, "Bearer abc", "Basic", "Basic !!!notbase64", "Basic " +
                                    base64.b64encode(b"no-colon").decode(), "wrong secret", "unknown client",
                                    "deleted client"])
async def test_missing_or_wrong_client_authentication_is_invalid_client(client: httpx.AsyncClient, app: FastAPI,
                                                                        header: str | None) -> None:
    alice = await account(client)
    made, secret = await container_of(app).create_service_client().execute(f"svc-{uuid.uuid4().hex[:6]}")
    if header == "wrong secret":
        header = basic(made.client_id, secret + "x")
    elif header == "unknown client":
        header = basic(uuid.uuid4().hex, secret)
    elif header == "deleted client":
        await container_of(app).delete_service_client().execute(made.client_id)
        header = basic(made.client_id, secret)
    answer = await introspect(client, {"Authorization": header} if header else {}, token=alice.tokens["access_token"])
    assert answer.status_code == 401, answer.text
    assert answer.json()["error"] == "invalid_client"
    assert answer.headers["www-authenticate"].startswith("Basic")
    assert answer.headers["cache-control"] == "no-store"
    assert "active" not in answer.json()


async def test_a_missing_token_is_invalid_request(client: httpx.AsyncClient, app: FastAPI) -> None:
    auth = await service_client(app)
    for form in ({}, {"token": ""}, {"token_type_hint": "access_token"}):
        answer = await introspect(client, auth, **form)
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"] == "invalid_request"
        assert answer.headers["cache-control"] == "no-store"
    not_a_form = await client.post("/auth/introspect", json={"token": "x"}, headers=auth)
    assert (not_a_form.status_code, not_a_form.json()["error"]) == (400, "invalid_request")


async def test_a_client_secret_with_reserved_characters_is_form_decoded(client: httpx.AsyncClient,
                                                                        app: FastAPI) -> None:
    """Our secrets are URL-safe, but a client that form-encodes its id and secret (RFC 6749 §2.3.1) still works,
    and one that sends them raw works too (nothing of ours needs encoding)."""
    made, secret = await container_of(app).create_service_client().execute("encoded")
    alice = await account(client)
    raw = "Basic " + base64.b64encode(f"{made.client_id}:{secret}".encode()).decode()
    for header in (basic(made.client_id, secret), raw):
        answer = await introspect(client, {"Authorization": header}, token=alice.tokens["access_token"])
        assert answer.json()["active"] is True


async def test_the_metadata_names_the_endpoint_and_its_client_authentication(client: httpx.AsyncClient) -> None:
    meta = (await client.get("/.well-known/oauth-authorization-server")).json()
    assert meta["introspection_endpoint"] == f"{meta['issuer']}/auth/introspect"
    assert meta["introspection_endpoint_auth_methods_supported"] == ["client_secret_basic"]


async def test_client_names_are_unique_and_secrets_are_stored_as_digests(app_factory: AppFactory) -> None:
    from domain.errors import ClientNameTaken

    app, container = await app_factory()
    made, secret = await container.create_service_client().execute("orders")
    assert len(secret) >= 43  # 256 bits, URL-safe
    assert secret not in repr(made)
    [listed] = await container.list_service_clients().execute()
    assert (listed.client_id, listed.name) == (made.client_id, "orders")
    assert listed.secret.value != secret
    assert listed.admits(secret)
    with pytest.raises(ClientNameTaken):
        await container.create_service_client().execute("orders")
    async with client_for(app) as client:
        alice = await account(client)
        second = await login(client, alice.email)
        answer = await introspect(client, {"Authorization": basic(made.client_id, secret)},
                                  token=second["access_token"])
    assert answer.json()["active"] is True


@pytest.mark.parametrize("header", ["Basic é", "Basic " + base64.b64encode(b"\x00:x").decode(),
                                    "Basic " + base64.b64encode(b"a%00:x").decode(),
                                    "Basic " + base64.b64encode(("x" * 5000 + ":y").encode()).decode(),
                                    "Basic " + base64.b64encode(b"\xff\xfe:x").decode()])
async def test_odd_credentials_are_invalid_client_not_a_failure(client: httpx.AsyncClient, header: str) -> None:
    answer = await client.post("/auth/introspect", data={"token": "x"},
                               headers={b"Authorization": header.encode("utf-8")})
    assert answer.status_code == 401, answer.text
    assert answer.json()["error"] == "invalid_client"
    assert answer.headers["cache-control"] == "no-store"
