"""Property-based fuzzing of every operation in the app's own OpenAPI schema (schemathesis), against a
real server, authenticated: no 5xx, responses match their schemas, status codes are documented."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from tests.api.helpers import PASSWORD, unique_email
from tests.live_server import gatehouse_command, live_server


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def server(workdir: Path) -> Iterator[str]:
    # generous failure limit: fuzzed logins must not lock the fuzzer's own account out
    with live_server(workdir, GATEHOUSE_LOGIN_MAX_FAILURES="100000") as running:
        yield running.base_url


@pytest.fixture(scope="module")
def credentials(server: str, workdir: Path) -> dict[str, str]:
    """The fuzzer's account, an admin (made as an operator makes one), so /admin is fuzzed past its role
    check too. It stays one: it is the only admin, and cannot disable or delete itself."""
    email = unique_email("fuzz")
    response = httpx.post(f"{server}/auth/register", json={"email": email, "password": PASSWORD})
    assert response.status_code == 201
    made = gatehouse_command(workdir, {}, "users", "set-roles", email, "admin")
    assert made.returncode == 0, made.stderr
    return {"username": email, "password": PASSWORD}


@pytest.fixture(scope="module")
def api_schema(server: str) -> Any:
    return schemathesis.openapi.from_url(f"{server}/openapi.json")


def _operations() -> list[tuple[str, str]]:
    """(method, path) of every documented operation, read from the app's schema at collection time."""
    from api.app import create_app
    from tests.conftest import make_settings

    document = create_app(make_settings(Path("/nonexistent-collection-only"))).openapi()
    return [(method.upper(), path) for path, ops in document["paths"].items() for method in ops]


@pytest.mark.parametrize(("method", "path"), _operations())
def test_every_operation_holds_up_under_generated_input(method: str, path: str, api_schema: Any, server: str,
                                                        credentials: dict[str, str]) -> None:
    operation = api_schema[path][method]

    @given(case=operation.as_strategy())
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(case: Any) -> None:
        # A fresh session for every case: a fuzzed logout-all, revoke or password change cannot
        # starve the other cases of a working token.
        token = httpx.post(f"{server}/auth/token", data={"grant_type": "password", **credentials}).json()
        case.call_and_validate(
            base_url=server, headers={"Authorization": f"Bearer {token['access_token']}"},
            checks=[not_a_server_error, status_code_conformance, response_schema_conformance],
        )

    check()
