"""Small HTTP helpers shared by the API tests."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import jwt

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


# --- tokens, OAuth endpoints and timestamps ------------------------------------------------------

TOKEN_CACHE_HEADERS = {"cache-control": "no-store", "pragma": "no-cache"}


async def token_grant(client: httpx.AsyncClient, **form: str) -> httpx.Response:
    """POST /auth/token with a form body (RFC 6749)."""
    return await client.post("/auth/token", data=form)


async def password_grant(client: httpx.AsyncClient, email: str, password: str = PASSWORD,
                         **extra: str) -> httpx.Response:
    return await token_grant(client, grant_type="password", username=email, password=password, **extra)


async def refresh(client: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    return await client.post("/auth/refresh", json={"refresh_token": refresh_token})


async def revoke(client: httpx.AsyncClient, token: str, **extra: str) -> httpx.Response:
    return await client.post("/auth/revoke", data={"token": token, **extra})


def bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


def assert_token_response(response: httpx.Response) -> dict[str, Any]:
    """A 200 token response with its shape and no-cache headers (RFC 6749 §5.1)."""
    assert response.status_code == 200, response.text
    for name, value in TOKEN_CACHE_HEADERS.items():
        assert response.headers.get(name) == value, response.headers
    body = dict(response.json())
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token", "scope"}, body
    assert body["token_type"] == "Bearer"
    assert isinstance(body["expires_in"], int)
    assert body["expires_in"] > 0
    assert body["scope"] == ""
    return body


def assert_oauth_error(response: httpx.Response, status: int, error: str) -> dict[str, Any]:
    """An RFC 6749 §5.2 error body (JSON, not problem details)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = dict(response.json())
    assert body["error"] == error, body
    assert "error_description" in body, body
    return body


def assert_invalid_token(response: httpx.Response) -> dict[str, Any]:
    """401 invalid_token problem with an RFC 6750 challenge naming the error."""
    body = assert_problem(response, 401, "invalid_token")
    challenge = response.headers.get("www-authenticate", "")
    assert challenge.startswith("Bearer"), response.headers
    assert 'error="invalid_token"' in challenge, challenge
    return body


def claims_of(access_token: str) -> dict[str, Any]:
    """The unverified claims of a JWT (the tests check the signature separately where it matters)."""
    return dict(jwt.decode(access_token, options={"verify_signature": False}))


def header_of(access_token: str) -> dict[str, Any]:
    return dict(jwt.get_unverified_header(access_token))


def parse_time(value: Any) -> datetime:
    """An RFC 3339 UTC timestamp (`Z` or `+00:00`, optional fractional seconds) as an aware datetime."""
    assert isinstance(value, str), value
    assert RFC3339_UTC.match(value), f"not an RFC 3339 UTC timestamp: {value!r}"
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert parsed.utcoffset() == timedelta(0)
    return parsed


RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|\+00:00)$")


async def notifications_of(client: httpx.AsyncClient, who: Account) -> list[dict[str, Any]]:
    response = await client.get("/notifications", headers=who.auth)
    assert response.status_code == 200, response.text
    return list(response.json())


def kinds(notifications: list[dict[str, Any]]) -> list[str]:
    return [n["kind"] for n in notifications]


def set_cookies(response: httpx.Response) -> dict[str, dict[str, str]]:
    """name → {"value": …, attribute: value or ""} for each Set-Cookie of the response."""
    found: dict[str, dict[str, str]] = {}
    for header in response.headers.get_list("set-cookie"):
        first, *attributes = [part.strip() for part in header.split(";")]
        name, _, value = first.partition("=")
        found[name] = {"value": value, **{a.partition("=")[0]: a.partition("=")[2] for a in attributes}}
    return found
