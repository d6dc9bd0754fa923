"""Strict mode: every token is also checked at introspection, answers remembered at most a second (offline)."""

from __future__ import annotations

import asyncio
import logging
import time

import httpx
import jwt
import pytest

from gatehouse_verify import GatehouseVerifier, InvalidToken, Unavailable
from gatehouse_verify.introspection import Introspector
from gatehouse_verify.testing import LocalIssuer
from verify_helpers import bearer, sibling_app

INTROSPECT = "/auth/introspect"


async def test_a_revoked_session_is_refused_once_the_remembered_answer_ends(issuer: LocalIssuer) -> None:
    verifier = issuer.verifier(strict=True)  # answers remembered for the default (and maximum) 1 s
    token = issuer.mint(session_id="s-1")
    await verifier.verify(token)
    asked_by = time.monotonic()
    issuer.end_session("s-1")
    assert (await verifier.verify(token)).session_id == "s-1"  # the answer of a moment ago still stands
    refusal = ""
    while not refusal:
        try:
            await verifier.verify(token)
        except InvalidToken as error:
            refusal = str(error)
        else:
            assert time.monotonic() - asked_by <= 1.0, "an active answer was remembered for more than a second"
            await asyncio.sleep(0.02)
    assert refusal == "The access token is no longer active"
    await verifier.aclose()


async def test_without_strict_mode_a_revoked_session_stays_accepted_until_expiry(issuer: LocalIssuer) -> None:
    verifier = issuer.verifier()
    token = issuer.mint(session_id="s-2")
    issuer.end_session("s-2")
    assert (await verifier.verify(token)).session_id == "s-2"  # what strict mode exists for
    assert issuer.requests[INTROSPECT] == 0
    await verifier.aclose()


async def test_strict_mode_answers_with_the_users_roles_now(issuer: LocalIssuer) -> None:
    verifier = issuer.verifier(strict=True, introspection_cache_seconds=0)
    app = sibling_app(verifier)
    promoted, demoted = issuer.mint("promoted", roles=[]), issuer.mint("demoted", roles=["admin"])
    issuer.set_roles("promoted", ["admin"])
    issuer.set_roles("demoted", [])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sibling") as client:
        assert (await client.get("/admin", headers=bearer(promoted))).status_code == 200
        refused = await client.get("/admin", headers=bearer(demoted))
        assert refused.status_code == 403
        assert 'error="insufficient_scope"' in refused.headers["WWW-Authenticate"]
        ended = issuer.mint(session_id="s-3")
        issuer.end_session("s-3")
        gone = await client.get("/orders", headers=bearer(ended))
        assert gone.status_code == 401
        assert gone.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    await verifier.aclose()


async def test_concurrent_checks_of_one_token_share_one_introspection(issuer: LocalIssuer) -> None:
    verifier = issuer.verifier(strict=True)
    token = issuer.mint()
    await asyncio.gather(*(verifier.verify(token) for _ in range(100)))
    assert issuer.requests[INTROSPECT] == 1
    await verifier.aclose()


async def test_a_forged_token_is_refused_without_asking_gatehouse(issuer: LocalIssuer) -> None:
    verifier = issuer.verifier(strict=True)
    with pytest.raises(InvalidToken):
        await verifier.verify(LocalIssuer(issuer.issuer).mint())  # another key: no such kid
    with pytest.raises(InvalidToken):
        await verifier.verify(issuer.mint(expires_in=-600))
    assert issuer.requests[INTROSPECT] == 0
    await verifier.aclose()


async def test_gatehouse_unreachable_refuses_by_default(issuer: LocalIssuer) -> None:
    verifier = issuer.verifier(strict=True, introspection_cache_seconds=0)
    app = sibling_app(verifier)
    token = issuer.mint()
    await verifier.verify(token)  # keys and endpoints known
    issuer.reachable = False
    with pytest.raises(Unavailable, match="could not be reached"):
        await verifier.verify(token)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sibling") as client:
        answer = await client.get("/orders", headers=bearer(token))
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "1"
    await verifier.aclose()


async def test_gatehouse_unreachable_may_fall_back_to_the_signature_when_configured(
        issuer: LocalIssuer, caplog: pytest.LogCaptureFixture) -> None:
    verifier = issuer.verifier(strict=True, introspection_cache_seconds=0, when_unreachable="trust_signature")
    token = issuer.mint()
    await verifier.verify(token)
    issuer.reachable = False
    with caplog.at_level(logging.WARNING, "gatehouse_verify"):
        assert (await verifier.verify(token)).subject  # the signature and claims still check out
    assert any("signature alone" in r.getMessage() for r in caplog.records)
    with pytest.raises(InvalidToken):
        await verifier.verify(issuer.mint(aud="billing"))  # and what they refuse is still refused
    await verifier.aclose()


async def test_wrong_client_credentials_refuse_and_say_so_in_the_log(
        issuer: LocalIssuer, caplog: pytest.LogCaptureFixture) -> None:
    verifier = issuer.verifier(strict=True, introspect=(issuer.client_id, "wrong"),
                               when_unreachable="trust_signature")
    with caplog.at_level(logging.ERROR, "gatehouse_verify"), pytest.raises(Unavailable, match="credentials"):
        await verifier.verify(issuer.mint())
    assert any("refused this service's client credentials" in r.getMessage() for r in caplog.records)
    await verifier.aclose()


async def test_an_hs256_token_is_left_to_introspection_in_strict_mode() -> None:
    secret = "s" * 32
    calls: list[str] = []

    def gatehouse(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if request.url.path.endswith("oauth-authorization-server"):
            return httpx.Response(200, json={"issuer": "https://hs.test", "jwks_uri": "https://hs.test/jwks",
                                             "introspection_endpoint": "https://hs.test/introspect"})
        if request.url.path == "/jwks":
            return httpx.Response(200, json={"keys": []})
        token = request.content.decode().split("token=")[1].split("&")[0]
        try:
            claims = jwt.decode(token, secret, algorithms=["HS256"], audience="gatehouse")
        except jwt.PyJWTError:
            return httpx.Response(200, json={"active": False})
        return httpx.Response(200, json={"active": True, **claims, "roles": ["admin"]})

    http = httpx.AsyncClient(transport=httpx.MockTransport(gatehouse))
    now = int(time.time())
    payload = {"iss": "https://hs.test", "aud": "gatehouse", "sub": "u", "sid": "s", "jti": "j", "iat": now,
               "exp": now + 60, "scope": "", "roles": []}
    token = jwt.encode(payload, secret, algorithm="HS256", headers={"typ": "at+jwt", "kid": "hs"})
    strict = GatehouseVerifier("https://hs.test", "gatehouse", introspect=("c", "s"), http_client=http)
    claims = await strict.verify(token)
    assert (claims.subject, claims.roles) == ("u", frozenset({"admin"}))  # roles as introspection answers them
    with pytest.raises(InvalidToken):
        await strict.verify(jwt.encode(payload, "t" * 32, algorithm="HS256", headers={"typ": "at+jwt"}))
    await http.aclose()


def test_the_remembered_answer_cannot_outlive_a_second(issuer: LocalIssuer) -> None:
    with pytest.raises(ValueError, match="at most 1 s"):
        issuer.verifier(strict=True, introspection_cache_seconds=5)
    with pytest.raises(ValueError, match="client_secret"):
        issuer.verifier(strict=True, introspect=("id", ""))


async def test_a_busy_tokens_answer_is_renewed_before_it_ends_so_no_request_waits(issuer: LocalIssuer) -> None:
    now = [100.0]
    http = httpx.AsyncClient(transport=issuer.transport())

    async def endpoint() -> str:
        return f"{issuer.issuer}/auth/introspect"

    introspector = Introspector(http, endpoint, (issuer.client_id, issuer.client_secret), clock=lambda: now[0])
    token = issuer.mint()
    assert await introspector.check(token) is not None  # asked at 100.0: serves until 101.0
    now[0] = 100.85
    assert await introspector.check(token) is not None
    assert issuer.requests[INTROSPECT] == 1  # not yet in its last tenth
    now[0] = 100.95
    assert await introspector.check(token) is not None  # from memory, and a renewal starts
    await asyncio.sleep(0.01)
    assert issuer.requests[INTROSPECT] == 2
    now[0] = 101.5  # the first answer has ended; the renewal (asked at 100.95) serves until 101.95
    assert await introspector.check(token) is not None
    assert issuer.requests[INTROSPECT] == 2
    issuer.reachable = False
    now[0] = 101.9
    assert await introspector.check(token) is not None  # a renewal that fails leaves the answer in force...
    await asyncio.sleep(0.01)
    now[0] = 101.96
    with pytest.raises(Unavailable):  # ...but never past its second
        await introspector.check(token)
    await http.aclose()
