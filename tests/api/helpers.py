"""Small HTTP helpers shared by the API tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

PASSWORD = "correct horse battery staple"


@dataclass
class Account:
    email: str
    password: str
    user: dict[str, Any]
    tokens: dict[str, Any]

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens['access_token']}"}


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


async def register(client: httpx.AsyncClient, email: str | None = None, password: str = PASSWORD,
                   **extra: Any) -> dict[str, Any]:
    response = await client.post("/auth/register",
                                 json={"email": email or unique_email(), "password": password, **extra})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD,
                **headers: str) -> dict[str, Any]:
    response = await client.post("/auth/login", json={"email": email, "password": password},
                                 headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def account(client: httpx.AsyncClient, email: str | None = None, password: str = PASSWORD) -> Account:
    email = email or unique_email()
    user = await register(client, email, password)
    return Account(email=email, password=password, user=user, tokens=await login(client, email, password))


def assert_problem(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body = dict(response.json())
    assert {"type", "title", "status", "detail", "code"} <= body.keys(), body
    assert body["status"] == status
    if code is not None:
        assert body["code"] == code, body
    return body
