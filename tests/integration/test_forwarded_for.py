"""`gatehouse serve --forwarded-allow-ips`: X-Forwarded-For gives the client address only when the
request comes from a configured proxy (by default a proxy on the same host, 127.0.0.1), over real HTTP."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest

from tests.api.helpers import PASSWORD
from tests.live_server import live_server

FORWARDED = {"X-Forwarded-For": "203.0.113.50"}


def _session_ip(base_url: str) -> str | None:
    email = f"xff-{uuid.uuid4().hex[:10]}@example.com"
    assert httpx.post(f"{base_url}/auth/register", json={"email": email, "password": PASSWORD}).status_code == 201
    tokens = httpx.post(f"{base_url}/auth/login", json={"email": email, "password": PASSWORD},
                        headers=FORWARDED).json()
    [session] = httpx.get(f"{base_url}/auth/sessions",
                          headers={"Authorization": f"Bearer {tokens['access_token']}"}).json()
    ip: str | None = session["ip"]
    return ip


@pytest.mark.parametrize(("serve_args", "seen"), [
    ((), "203.0.113.50"),  # the default trusts a proxy on this host: the tests' client is one
    (("--forwarded-allow-ips", "192.0.2.1"), "127.0.0.1"),  # not a configured proxy: its header is ignored
])
def test_x_forwarded_for_is_trusted_only_from_configured_proxies(tmp_path: Path, serve_args: tuple[str, ...],
                                                                  seen: str) -> None:
    with live_server(tmp_path, serve_args=serve_args) as server:
        assert _session_ip(server.base_url) == seen


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
@pytest.mark.parametrize(("forwarded", "seen"), [
    ("2001:db8::" + "1" * 60, None),  # 71 characters: no address
    ("a" * 65, None),
    ("not-an-address", None),
    ("203.0.113.50, <script>", None),  # the proxy appended nonsense: the rightmost entry is what counts
    ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),  # stored in its canonical spelling
])
def test_a_forwarded_value_that_is_not_an_ip_address_is_not_taken_as_one(
        tmp_path: Path, request: pytest.FixtureRequest, backend: str, forwarded: str, seen: str | None) -> None:
    env = {} if backend == "sqlite" else {"GATEHOUSE_DATABASE_URL": str(request.getfixturevalue("migrated_postgres"))}
    with live_server(tmp_path, environment=env) as server:
        email = f"xff-{uuid.uuid4().hex[:10]}@example.com"
        assert httpx.post(f"{server.base_url}/auth/register",
                          json={"email": email, "password": PASSWORD}).status_code == 201
        response = httpx.post(f"{server.base_url}/auth/login", json={"email": email, "password": PASSWORD},
                              headers={"X-Forwarded-For": forwarded})
        assert response.status_code == 200, response.text
        [session] = httpx.get(f"{server.base_url}/auth/sessions",
                              headers={"Authorization": f"Bearer {response.json()['access_token']}"}).json()
        assert session["ip"] == seen
