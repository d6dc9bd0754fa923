"""Fixtures of the API tests on top of the shared ones in tests/conftest.py."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import jwt
import pytest
import pytest_asyncio
from dependency_injector import providers
from fastapi import FastAPI

from api.container import Container
from tests.api.helpers import Account, account, bearer, claims_of
from tests.conftest import AppFactory, client_for
from tests.fakes import FakeClock

ClockedApp = Callable[..., Awaitable[tuple[FastAPI, FakeClock]]]


@pytest.fixture
def clocked_app(app_factory: AppFactory) -> ClockedApp:
    """An app whose clock the test moves. It starts at the real time (whole seconds), because access
    tokens are checked against the real time while sessions are checked against the app's clock."""

    async def build(start: datetime | None = None, **overrides: Any) -> tuple[FastAPI, FakeClock]:
        clock = FakeClock(start or datetime.now(UTC).replace(microsecond=0))
        app, _ = await app_factory(container_setup=lambda c: c.clock.override(providers.Object(clock)),
                                   **overrides)
        return app, clock

    return build


@dataclass
class Forge:
    """Signs arbitrary access tokens with the app's own key, to test each check separately."""

    client: httpx.AsyncClient
    container: Container
    alice: Account

    def claims(self, **changes: Any) -> dict[str, Any]:
        now = int(time.time())
        claims = {**claims_of(self.alice.tokens["access_token"]), "iat": now, "exp": now + 600,
                  "jti": uuid.uuid4().hex}
        claims.update(changes)
        return {k: v for k, v in claims.items() if v is not None}

    def sign(self, claims: dict[str, Any], **header: Any) -> str:
        """A compact JWS over exactly these members: a member set to None is left out, so the
        header can be anything (no `typ`, a non-string `kid`, ...), unlike with `jwt.encode`."""
        keyring = self.container.keyring()
        members = {"alg": keyring.algorithm, "kid": keyring.signing_kid, "typ": "at+jwt", **header}
        signing_input = f"{b64url_json({k: v for k, v in members.items() if v is not None})}.{b64url_json(claims)}"
        algorithm = jwt.get_algorithm_by_name(keyring.algorithm)
        signature = algorithm.sign(signing_input.encode(), algorithm.prepare_key(keyring.signing_key))
        return f"{signing_input}.{b64url(signature)}"

    def token(self, header: dict[str, Any] | None = None, **changes: Any) -> str:
        return self.sign(self.claims(**changes), **(header or {}))

    async def me(self, token: str) -> httpx.Response:
        return await self.client.get("/users/me", headers=bearer(token))


@pytest_asyncio.fixture(loop_scope="session")
async def forge(app_factory: AppFactory) -> AsyncIterator[Forge]:
    app, container = await app_factory()
    async with client_for(app) as client:
        yield Forge(client, container, await account(client))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_json(value: Any) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())
