"""Token attacks over HTTP that the bearer tests do not already cover: oversized and hostile tokens,
tokens used in the wrong role, and logout racing refresh."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable

import httpx
import pytest

from tests.api.conftest import Forge
from tests.api.helpers import account, assert_problem, claims_of


async def test_a_100_kb_token_is_refused_without_being_parsed(forge: Forge) -> None:
    response = await forge.me("a" * 50_000 + "." + "b" * 50_000 + ".c")
    assert_problem(response, 401, "invalid_token")
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


@pytest.mark.parametrize("kid", ["../../../../etc/passwd", "' OR '1'='1", "key\x00", "", None, 7])
async def test_a_kid_that_names_no_configured_key_is_refused(forge: Forge, kid: object) -> None:
    token = forge.token(header={"kid": kid})
    assert_problem(await forge.me(token), 401, "invalid_token")


@pytest.mark.parametrize("trailing", ["", "."])
async def test_alg_none_is_refused_with_or_without_a_trailing_dot(forge: Forge, trailing: str) -> None:
    _, payload, _ = forge.token().split(".")
    none_header = base64.urlsafe_b64encode(json.dumps(
        {"alg": "none", "typ": "at+jwt", "kid": forge.container.keyring().signing_kid}).encode()).rstrip(b"=")
    token = f"{none_header.decode()}.{payload}{trailing}"
    assert_problem(await forge.me(token), 401, "invalid_token")


async def test_a_stripped_signature_is_refused(forge: Forge) -> None:
    header, payload, _ = forge.token().split(".")
    assert_problem(await forge.me(f"{header}.{payload}."), 401, "invalid_token")


async def test_an_access_token_is_not_a_refresh_token(client: httpx.AsyncClient) -> None:
    alice = await account(client)
    access = alice.tokens["access_token"]
    assert_problem(await client.post("/auth/refresh", json={"refresh_token": access}), 401, "invalid_refresh_token")
    grant = await client.post("/auth/token", data={"grant_type": "refresh_token", "refresh_token": access})
    assert grant.status_code == 400
    assert grant.json()["error"] == "invalid_grant"
    # and the session it names is untouched by the attempt
    assert (await client.get("/users/me", headers=alice.auth)).status_code == 200


async def test_logout_racing_refresh_never_leaves_a_working_token(client: httpx.AsyncClient) -> None:
    for _ in range(5):
        alice = await account(client)
        token = alice.tokens["refresh_token"]
        refreshed, logged_out = await asyncio.gather(
            client.post("/auth/refresh", json={"refresh_token": token}),
            client.post("/auth/logout", json={"refresh_token": token}))
        assert logged_out.status_code == 204
        # whichever order they ran in, the session is over: nothing it issued works any more
        candidates = [token]
        if refreshed.status_code == 200:
            candidates.append(refreshed.json()["refresh_token"])
            me = await client.get("/users/me", headers={"Authorization": f"Bearer {refreshed.json()['access_token']}"})
            assert me.status_code == 401
        for candidate in candidates:
            again = await client.post("/auth/refresh", json={"refresh_token": candidate})
            assert again.status_code == 401
        assert (await client.get("/users/me", headers=alice.auth)).status_code == 401


@pytest.mark.parametrize("respell", [
    lambda t: t + "==",  # padding
    lambda t: t.replace(".", "=.", 1),  # padding inside
    lambda t: t[:-1] + _flip_unused_bits(t[-1], len(t.rsplit(".", 1)[1])),  # same bytes, other spelling
    lambda t: t.replace("-", "+").replace("_", "/") if ("-" in t or "_" in t) else t + "+",  # standard b64
], ids=["trailing padding", "inner padding", "unused bits", "standard alphabet"])
async def test_a_valid_token_spelled_other_than_canonically_is_refused(
        forge: Forge, respell: Callable[[str], str]) -> None:
    token = forge.alice.tokens["access_token"]
    assert (await forge.me(token)).status_code == 200  # cached as verified, in its canonical spelling
    other = respell(token)
    assert other != token
    assert_problem(await forge.me(other), 401, "invalid_token")


def _flip_unused_bits(last: str, segment_length: int) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    unused = {2: 0b1111, 3: 0b11}.get(segment_length % 4, 0)
    if not unused:
        pytest.skip("this signature's length leaves no unused bits")  # EdDSA: 86 characters, 2 mod 4
    return alphabet[alphabet.index(last) ^ 1]


async def test_a_token_whose_sid_is_another_users_session_is_refused(forge: Forge) -> None:
    bob = claims_of((await account(forge.client)).tokens["access_token"])
    mixed = forge.token(sid=bob["sid"])  # alice's sub, bob's live session
    assert_problem(await forge.me(mixed), 401, "invalid_token")
    assert (await forge.me(forge.token(sid=bob["sid"], sub=bob["sub"]))).status_code == 200  # now cached
    assert_problem(await forge.me(forge.token(sid=bob["sid"])), 401, "invalid_token")
    assert (await forge.me(forge.alice.tokens["access_token"])).status_code == 200
