"""gatehouse-verify against a real two-worker `gatehouse serve`: a second FastAPI app (in this process, its
verifiers talking to Gatehouse over real HTTP) accepts Gatehouse's tokens, and in strict mode refuses a
revoked session's token within about a second, sees role changes, and says what it does when Gatehouse is
down (SQLite's file and Postgres)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from gatehouse_verify import ConfigurationError, GatehouseVerifier
from tests.api.helpers import PASSWORD, unique_email
from tests.live_server import free_port, gatehouse_command, live_server, service_client
from verify_helpers import bearer, sibling_app

GATEHOUSE_BOUND_SECONDS = 1.0  # the contract: a revoked session is inactive on every worker within a second
STRICT_BOUND_SECONDS = GATEHOUSE_BOUND_SECONDS + 1.0  # plus the verifier's remembered answer (at most 1 s)


async def _sign_in(base_url: str, email: str) -> dict[str, str]:
    async with httpx.AsyncClient(base_url=base_url) as client:
        assert (await client.post("/auth/register", json={"email": email, "password": PASSWORD})).status_code == 201
        tokens = (await client.post("/auth/login", json={"email": email, "password": PASSWORD})).json()
    return {str(k): str(v) for k, v in tokens.items()}


async def _until_status(client: httpx.AsyncClient, path: str, token: str, status: int, since: float,
                        bound: float) -> float:
    while True:
        answer = await client.get(path, headers=bearer(token))
        elapsed = time.monotonic() - since
        if answer.status_code == status:
            return elapsed
        assert elapsed <= bound, f"{path} still answers {answer.status_code} {elapsed:.2f} s after the change"
        await asyncio.sleep(0.02)


def _sibling(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://orders.internal")


def test_a_sibling_service_refuses_a_revoked_session_within_about_a_second_in_strict_mode(
        server_env: dict[str, str], tmp_path: Path) -> None:
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    env = {**server_env, "GATEHOUSE_ISSUER": issuer}
    orders = service_client(tmp_path, env, "orders")
    with live_server(tmp_path, port=port, workers=2, environment=env) as server:
        async def scenario() -> dict[str, float]:
            plain = GatehouseVerifier(issuer=issuer, audience="gatehouse")
            strict = GatehouseVerifier(issuer=issuer, audience="gatehouse",
                                       introspect=(orders["client_id"], orders["client_secret"]))
            await plain.start()
            await strict.start()
            email = unique_email("sibling")
            tokens = await _sign_in(server.base_url, email)
            token = tokens["access_token"]
            measured: dict[str, float] = {}
            async with _sibling(sibling_app(plain)) as loose, _sibling(sibling_app(strict)) as checked:
                for client in (loose, checked):
                    seen = await client.get("/orders", headers=bearer(token))
                    assert seen.status_code == 200, seen.text
                    assert seen.json()["roles"] == []
                    assert (await client.get("/admin", headers=bearer(token))).status_code == 403
                # a role granted now reaches the strict service without a new token
                granted = gatehouse_command(tmp_path, env, "users", "set-roles", email, "admin")
                assert granted.returncode == 0, granted.stderr
                began = time.monotonic()
                measured["role"] = await _until_status(checked, "/admin", token, 200, began, STRICT_BOUND_SECONDS)
                assert (await loose.get("/admin", headers=bearer(token))).status_code == 403  # the token's roles
                async with httpx.AsyncClient(base_url=server.base_url) as client:
                    ended = await client.post("/auth/logout", json={"refresh_token": tokens["refresh_token"]})
                    assert ended.status_code == 204
                logged_out = time.monotonic()
                measured["revoked"] = await _until_status(checked, "/orders", token, 401, logged_out,
                                                          STRICT_BOUND_SECONDS)
                refused = await checked.get("/orders", headers=bearer(token))
                assert refused.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
                assert (await loose.get("/orders", headers=bearer(token))).status_code == 200  # JWT-only: valid
            await plain.aclose()
            await strict.aclose()
            return measured

        measured = asyncio.run(scenario())
    assert measured["revoked"] <= STRICT_BOUND_SECONDS
    assert measured["role"] <= STRICT_BOUND_SECONDS


def test_with_gatehouse_down_keys_held_still_verify_and_strict_mode_refuses(tmp_path: Path) -> None:
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    env = {"GATEHOUSE_ISSUER": issuer}
    orders = service_client(tmp_path, env, "orders")
    credentials = (orders["client_id"], orders["client_secret"])

    async def scenario() -> None:
        plain = GatehouseVerifier(issuer=issuer, audience="gatehouse", keys_max_age=0)
        strict = GatehouseVerifier(issuer=issuer, audience="gatehouse", introspect=credentials,
                                   introspection_cache_seconds=0)
        lenient = GatehouseVerifier(issuer=issuer, audience="gatehouse", introspect=credentials,
                                    introspection_cache_seconds=0, when_unreachable="trust_signature")
        with live_server(tmp_path, port=port, environment=env) as server:
            token = (await _sign_in(server.base_url, unique_email("down")))["access_token"]
            for verifier in (plain, strict, lenient):
                assert (await verifier.verify(token)).subject
        # Gatehouse has stopped
        async with _sibling(sibling_app(plain)) as a, _sibling(sibling_app(strict)) as b, \
                _sibling(sibling_app(lenient)) as c:
            assert (await a.get("/orders", headers=bearer(token))).status_code == 200  # the keys it has
            down = await b.get("/orders", headers=bearer(token))
            assert down.status_code == 503  # fail closed: it cannot know whether the session still lives
            assert down.headers["Retry-After"] == "1"
            assert (await c.get("/orders", headers=bearer(token))).status_code == 200  # as configured
        for verifier in (plain, strict, lenient):
            await verifier.aclose()

    asyncio.run(scenario())


def test_an_hs256_gatehouse_is_verified_by_introspection_only(tmp_path: Path) -> None:
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    env = {"GATEHOUSE_ISSUER": issuer, "GATEHOUSE_JWT_ALGORITHM": "HS256",
           "GATEHOUSE_JWT_SECRET": "an-hs256-secret-for-this-test-only-0123456789"}
    orders = service_client(tmp_path, env, "orders")
    with live_server(tmp_path, port=port, environment=env) as server:
        async def scenario() -> None:
            plain = GatehouseVerifier(issuer=issuer, audience="gatehouse")
            with pytest.raises(ConfigurationError, match="strict mode"):
                await plain.start()
            strict = GatehouseVerifier(issuer=issuer, audience="gatehouse",
                                       introspect=(orders["client_id"], orders["client_secret"]))
            await strict.start()
            tokens = await _sign_in(server.base_url, unique_email("hs"))
            async with _sibling(sibling_app(strict)) as checked:
                assert (await checked.get("/orders", headers=bearer(tokens["access_token"]))).status_code == 200
                forged = tokens["access_token"][:-4] + ("AAAA" if not tokens["access_token"].endswith("AAAA")
                                                        else "BBBB")
                assert (await checked.get("/orders", headers=bearer(forged))).status_code == 401
            await plain.aclose()
            await strict.aclose()

        asyncio.run(scenario())
