"""Problem details everywhere: unknown paths, wrong methods, bad JSON, oversized bodies, crashes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from dependency_injector import providers

from api.container import Container
from tests.api.helpers import PASSWORD, Account, account, assert_problem, unique_email
from tests.conftest import AppFactory, client_for

ONE_MIB = 1_048_576
JSON_ENDPOINTS = [("POST", "/auth/register"), ("POST", "/auth/login"), ("POST", "/auth/refresh"),
                  ("POST", "/auth/logout"), ("PATCH", "/users/me"), ("POST", "/users/me/password"),
                  ("POST", "/items/"), ("POST", "/notifications")]


def _assert_validation_problem(response: httpx.Response) -> list[dict[str, Any]]:
    body = assert_problem(response, 422, "validation_error")
    errors = body["errors"]
    assert isinstance(errors, list), body
    assert errors, body
    for error in errors:
        assert {"loc", "msg", "type"} <= set(error), error
        assert isinstance(error["loc"], list)
        assert isinstance(error["msg"], str)
        assert isinstance(error["type"], str)
    return list(errors)


@pytest.fixture
async def alice(client: httpx.AsyncClient) -> Account:
    return await account(client)


# --- 404 and 405 ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("method", "path"), [("GET", "/nope"), ("POST", "/auth/nope"), ("GET", "/users/you"),
                                              ("GET", "/items/a/b"), ("DELETE", "/")])
async def test_an_unknown_path_is_a_404_problem(client: httpx.AsyncClient, method: str, path: str) -> None:
    assert_problem(await client.request(method, path), 404, "not_found")


@pytest.mark.parametrize(("method", "path"), [("DELETE", "/health"), ("GET", "/auth/login"), ("PUT", "/items/"),
                                              ("GET", "/auth/token"), ("GET", "/auth/revoke"),
                                              ("POST", "/.well-known/jwks.json"), ("PUT", "/users/me")])
async def test_a_wrong_method_is_a_405_problem(client: httpx.AsyncClient, method: str, path: str) -> None:
    response = await client.request(method, path)
    assert_problem(response, 405)
    assert "allow" in response.headers


@pytest.mark.parametrize(("method", "path"), [("DELETE", "/health"), ("PUT", "/users/me"),
                                              ("POST", "/.well-known/jwks.json")])
async def test_every_method_a_405_names_in_allow_is_actually_served(client: httpx.AsyncClient, alice: Account,
                                                                    method: str, path: str) -> None:
    response = await client.request(method, path, headers=alice.auth)
    assert_problem(response, 405)
    allowed = [m.strip() for m in response.headers["allow"].split(",")]
    assert allowed
    for other in allowed:
        answer = await client.request(other, path, headers=alice.auth, json={} if other in ("POST", "PATCH") else None)
        assert answer.status_code != 405, (other, path, answer.headers.get("allow"))


# --- request validation --------------------------------------------------------------------------

@pytest.mark.parametrize(("method", "path"), JSON_ENDPOINTS)
async def test_malformed_json_is_422_with_an_errors_list(client: httpx.AsyncClient, alice: Account, method: str,
                                                         path: str) -> None:
    response = await client.request(method, path, content=b'{"email": "a@example.com", "password": ',
                                    headers={**alice.auth, "Content-Type": "application/json"})
    _assert_validation_problem(response)


@pytest.mark.parametrize("body", [b"[]", b'"text"', b"null", b"42", b"{}"])
async def test_json_that_is_not_the_expected_object_is_422(client: httpx.AsyncClient, body: bytes) -> None:
    response = await client.post("/auth/register", content=body, headers={"Content-Type": "application/json"})
    _assert_validation_problem(response)


async def test_a_validation_error_names_the_field_in_its_loc(client: httpx.AsyncClient) -> None:
    response = await client.post("/auth/register", json={"email": unique_email(), "password": 12345678})
    errors = _assert_validation_problem(response)
    assert any(e["loc"] == ["body", "password"] for e in errors), errors


async def test_a_validation_error_never_echoes_the_submitted_password(client: httpx.AsyncClient) -> None:
    secret = "sup3r-s3cret-but-bad\x00"
    response = await client.post("/auth/register", json={"email": "not an email", "password": secret})
    _assert_validation_problem(response)
    assert "sup3r-s3cret" not in response.text


@pytest.mark.parametrize(("method", "path"), [("GET", "/items/{}"), ("PATCH", "/items/{}"), ("DELETE", "/items/{}"),
                                              ("DELETE", "/auth/sessions/{}")])
@pytest.mark.parametrize("bad_id", ["1", "not-a-uuid", "0b6c1f4e-3f1d-4c2a-9a57-5d2f0c8e7a11x"])
async def test_a_path_id_that_is_not_a_uuid_is_422(client: httpx.AsyncClient, alice: Account, method: str,
                                                   path: str, bad_id: str) -> None:
    response = await client.request(method, path.format(bad_id), json={"title": "x"}, headers=alice.auth)
    _assert_validation_problem(response)


async def test_a_negative_offset_is_422(client: httpx.AsyncClient, alice: Account) -> None:
    _assert_validation_problem(await client.get("/items/?offset=-1", headers=alice.auth))


@pytest.mark.parametrize("limit", ["0", "101", "1.5"])
async def test_a_limit_outside_its_bounds_is_422(client: httpx.AsyncClient, alice: Account, limit: str) -> None:
    _assert_validation_problem(await client.get(f"/items/?limit={limit}", headers=alice.auth))


@pytest.mark.parametrize(("path", "body"), [
    ("/auth/register", {"email": "nul\x00@example.com", "password": PASSWORD}),
    ("/auth/register", {"email": unique_email(), "password": "nul\x00 in the password"}),
    ("/auth/register", {"email": unique_email(), "password": PASSWORD, "full_name": "A\x00"}),
    ("/auth/login", {"email": "a\x00@example.com", "password": PASSWORD}),
    ("/auth/refresh", {"refresh_token": "abc\x00"}),
    ("/items/", {"title": "\x00"}),
    ("/notifications", {"message": "hi\x00"}),
])
async def test_a_nul_byte_in_a_string_is_422(client: httpx.AsyncClient, alice: Account, path: str,
                                             body: dict[str, Any]) -> None:
    _assert_validation_problem(await client.post(path, json=body, headers=alice.auth))


@pytest.mark.parametrize(("path", "field"), [("/items/", "title"), ("/notifications", "message"),
                                             ("/auth/register", "full_name")])
async def test_a_lone_surrogate_in_a_string_is_422(client: httpx.AsyncClient, alice: Account, path: str,
                                                   field: str) -> None:
    body = f'{{"email": "{unique_email()}", "password": "{PASSWORD}", "{field}": "bad \\ud800 text"}}'
    response = await client.post(path, content=body.encode(), headers={**alice.auth,
                                                                       "Content-Type": "application/json"})
    _assert_validation_problem(response)


# --- body size -----------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/auth/register", "/auth/login", "/items/", "/auth/token", "/auth/revoke"])
async def test_a_body_over_one_mib_is_a_413_problem(client: httpx.AsyncClient, alice: Account, path: str) -> None:
    body = b'{"title": "' + b"x" * ONE_MIB + b'"}'
    response = await client.post(path, content=body, headers={**alice.auth, "Content-Type": "application/json"})
    assert_problem(response, 413)


async def _chunks(total: int, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    yield b'{"title": "'
    for _ in range(total // size):
        yield b"x" * size
    yield b'"}'


@pytest.mark.parametrize("path", ["/auth/token", "/auth/revoke"])
async def test_a_streamed_body_over_one_mib_without_a_length_is_a_413_problem_at_the_form_endpoints(
        client: httpx.AsyncClient, path: str) -> None:
    response = await client.post(path, content=_chunks(ONE_MIB + 64 * 1024),
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert "content-length" not in response.request.headers
    assert_problem(response, 413)


@pytest.mark.parametrize("path", ["/auth/register", "/items/", "/notifications"])
async def test_a_streamed_json_body_over_one_mib_without_a_length_is_a_413_problem(
        client: httpx.AsyncClient, alice: Account, path: str) -> None:
    response = await client.post(path, content=_chunks(ONE_MIB + 64 * 1024),
                                 headers={**alice.auth, "Content-Type": "application/json"})
    assert "content-length" not in response.request.headers
    assert_problem(response, 413)


async def test_a_body_just_under_one_mib_is_read_and_validated(client: httpx.AsyncClient, alice: Account) -> None:
    body = b'{"title": "' + b"x" * (ONE_MIB - 100) + b'"}'
    response = await client.post("/items/", content=body, headers={**alice.auth, "Content-Type": "application/json"})
    _assert_validation_problem(response)  # too long a title, but not too large a body


# --- no 5xx for bad input ------------------------------------------------------------------------

BAD_BODIES = [b"", b"\xff\xfe\x00", b'{"email": {"$gt": ""}, "password": ["x"]}', b'{"title": 1e999}',
              b'{"refresh_token": 123456789012345678901234567890}', b"[" * 5000 + b"]" * 5000,
              b'{"a": "' + "\u00e9".encode() * 10 + b'"}', b"grant_type=password&username=%ff%fe"]


@pytest.mark.parametrize(("method", "path"), [*JSON_ENDPOINTS, ("POST", "/auth/token"), ("POST", "/auth/revoke")])
async def test_bad_input_never_gets_a_5xx(client: httpx.AsyncClient, alice: Account, method: str, path: str) -> None:
    for body in BAD_BODIES:
        for content_type in ("application/json", "application/x-www-form-urlencoded", "text/plain"):
            response = await client.request(method, path, content=body,
                                            headers={**alice.auth, "Content-Type": content_type})
            assert response.status_code < 500, (body[:40], content_type, response.status_code, response.text)
            if response.status_code >= 400 and path not in ("/auth/token", "/auth/revoke"):
                assert response.headers["content-type"].startswith("application/problem+json"), response.text


@pytest.mark.parametrize("form", [{"grant_type": "password", "username": "x" * 5000, "password": "y"},
                                  {"grant_type": "refresh_token", "refresh_token": "%" * 2000},
                                  {"grant_type": "\u00e9\u0000"}, {"token": "t", "x" * 100: "y"}])
async def test_odd_forms_at_the_oauth_endpoints_never_get_a_5xx(client: httpx.AsyncClient,
                                                                form: dict[str, str]) -> None:
    for path in ("/auth/token", "/auth/revoke"):
        response = await client.post(path, data=form)
        assert response.status_code < 500, (path, response.text)


# --- unexpected failures -------------------------------------------------------------------------

class _ExplodingListItems:
    async def execute(self, *args: object) -> None:
        raise RuntimeError("SqlItemRepository blew up; password=hunter2 at /srv/gatehouse/secret.py")


async def test_an_unexpected_failure_is_a_500_problem_without_internals(app_factory: AppFactory) -> None:
    def explode(c: Container) -> None:
        c.list_items.override(providers.Factory(_ExplodingListItems))

    app, _ = await app_factory(container_setup=explode)
    async with client_for(app) as client:
        alice = await account(client)
        response = await client.get("/items/", headers=alice.auth)
    body = assert_problem(response, 500)
    for leak in ("RuntimeError", "SqlItemRepository", "hunter2", "secret.py", "Traceback", "_Exploding"):
        assert leak not in response.text, body


# --- messages that say what to fix ----------------------------------------------------------------


async def test_a_form_posted_to_the_json_login_says_to_send_json_or_use_the_token_endpoint(
        client: httpx.AsyncClient) -> None:
    response = await client.post("/auth/login", data={"email": "a@example.com", "password": "x"})
    body = assert_problem(response, 422, "validation_error")
    assert "takes JSON, not a form" in body["detail"]
    assert '"email"' in body["detail"]
    assert "/auth/token" in body["detail"]
    assert "dictionary" not in body["detail"]


async def test_a_short_password_is_counted_in_characters(client: httpx.AsyncClient) -> None:
    response = await client.post("/auth/register", json={"email": "short@example.com", "password": "short"})
    body = assert_problem(response, 422, "validation_error")
    assert body["detail"] == "`password` must be at least 8 characters long"
    assert body["errors"][0]["loc"] == ["body", "password"]
    assert "items" not in str(body)


async def test_logout_without_a_body_says_what_to_send(client: httpx.AsyncClient) -> None:
    response = await client.post("/auth/logout", headers={"Authorization": "Bearer an-access-token"})
    body = assert_problem(response, 422, "validation_error")
    assert '{"refresh_token": …}' in body["detail"]
    assert "access token" in body["detail"]
    wrong_field = await client.post("/auth/logout", json={"access_token": "an-access-token"})
    assert "`refresh_token` is required" in assert_problem(wrong_field, 422, "validation_error")["detail"]


async def test_several_mistakes_are_each_listed_and_the_first_is_the_detail(client: httpx.AsyncClient) -> None:
    response = await client.post("/auth/register", json={"email": 5, "password": "short"})
    body = assert_problem(response, 422, "validation_error")
    assert [e["msg"] for e in body["errors"]] == ["`email` must be a string",
                                                  "`password` must be at least 8 characters long"]
    assert body["detail"] == "`email` must be a string (and 1 more in `errors`)"
