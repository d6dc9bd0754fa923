"""What a route behind `verifier.require()` accepts and refuses, with RFC 6750 answers (offline)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import httpx
import jwt
import pytest

from gatehouse_verify import InvalidToken
from gatehouse_verify.testing import LocalIssuer
from verify_helpers import bearer


async def test_a_token_of_the_issuer_reaches_the_route_with_its_claims(
        issuer: LocalIssuer, guarded: httpx.AsyncClient) -> None:
    token = issuer.mint("user-1", roles=["admin"], session_id="session-1")
    answer = await guarded.get("/orders", headers=bearer(token))
    assert answer.status_code == 200
    assert answer.json() == {"sub": "user-1", "sid": "session-1", "roles": ["admin"]}
    assert (await guarded.get("/admin", headers=bearer(token))).status_code == 200


async def test_no_token_is_a_401_challenge_without_an_error_code(guarded: httpx.AsyncClient) -> None:
    for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer"}):
        answer = await guarded.get("/orders", headers=headers)
        assert answer.status_code == 401
        assert answer.headers["WWW-Authenticate"] == "Bearer"  # RFC 6750 §3.1: no error without credentials
        assert "Bearer <token>" in answer.json()["detail"]


def _part(value: dict[str, object] | bytes) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unsigned(header: dict[str, object], payload: dict[str, object]) -> str:
    return f"{_part(header)}.{_part(payload)}."


def _hmac_signed(header: dict[str, object], payload: dict[str, object], secret: bytes) -> str:
    """What the algorithm-confusion attack sends (PyJWT itself refuses to make it)."""
    signing_input = f"{_part(header)}.{_part(payload)}"
    return f"{signing_input}.{_part(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())}"


def _refused_tokens(issuer: LocalIssuer) -> dict[str, str]:
    now = time.time()
    stranger = LocalIssuer(issuer.issuer, issuer.audience)  # same names, another key
    good = jwt.decode(issuer.mint("u"), options={"verify_signature": False})
    public_pem = json.dumps(issuer.jwks()["keys"][0]).encode()
    kid = jwt.get_unverified_header(issuer.mint()).get("kid")
    return {
        "garbage": "not-a-jwt",
        "too long": "a" * 9000,
        "expired": issuer.mint(expires_in=-120),
        "another audience": issuer.mint(aud="billing"),
        "another issuer": issuer.mint(iss="https://gatehouse.test.evil"),
        "an issuer that only starts the same": issuer.mint(iss="https://gatehouse.tes"),
        "issued in the future": issuer.mint(issued_at=now + 3600),
        "not valid yet": issuer.mint(nbf=int(now + 3600)),
        "not an access token (typ JWT)": issuer.mint(headers={"typ": "JWT"}),
        "no typ": issuer.mint(headers={"typ": None}),
        "unknown kid": issuer.mint(headers={"kid": "made-up"}),
        "no kid": issuer.mint(headers={"kid": None}),
        "signed by another key with a known kid": stranger.mint(headers={"kid": kid}),
        "alg none": _unsigned({"alg": "none", "typ": "at+jwt", "kid": kid}, good),
        "HS256 keyed with the public key": _hmac_signed({"alg": "HS256", "typ": "at+jwt", "kid": kid}, good,
                                                        public_pem),
        "no sub": issuer.mint(sub=None),
        "no jti": issuer.mint(jti=None),
        "no exp": issuer.mint(exp=None),
        "scope not a string": issuer.mint(scope=["admin"]),  # type: ignore[arg-type]
    }


async def test_every_kind_of_bad_token_is_a_401_invalid_token(issuer: LocalIssuer) -> None:
    verifier = issuer.verifier(min_refetch_interval=0)
    outcomes = {}
    for name, token in _refused_tokens(issuer).items():
        try:
            outcomes[name] = f"accepted: {await verifier.verify(token)}"
        except InvalidToken as error:
            outcomes[name] = type(error).__name__
    assert outcomes == dict.fromkeys(outcomes, "InvalidToken")
    await verifier.aclose()


async def test_the_route_answers_a_bad_token_with_invalid_token(
        issuer: LocalIssuer, guarded: httpx.AsyncClient) -> None:
    answer = await guarded.get("/orders", headers=bearer(issuer.mint(expires_in=-120)))
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == (
        'Bearer error="invalid_token", error_description="The access token has expired"')
    assert answer.json() == {"detail": "The access token has expired"}


async def test_a_missing_role_or_scope_is_a_403_insufficient_scope(
        issuer: LocalIssuer, guarded: httpx.AsyncClient) -> None:
    plain = issuer.mint(roles=[], scope="orders:read")
    admin = await guarded.get("/admin", headers=bearer(plain))
    assert admin.status_code == 403
    assert admin.headers["WWW-Authenticate"] == (
        'Bearer error="insufficient_scope", error_description="This needs the role(s): admin"')
    reports = await guarded.get("/reports", headers=bearer(plain))
    assert reports.status_code == 403
    assert reports.headers["WWW-Authenticate"] == (
        'Bearer error="insufficient_scope", error_description="This needs the scope(s): reports:read", '
        'scope="reports:read"')
    granted = issuer.mint(scope="orders:read reports:read")
    assert (await guarded.get("/reports", headers=bearer(granted))).status_code == 200


async def test_leeway_admits_a_token_just_expired_and_no_more(issuer: LocalIssuer) -> None:
    just_expired = issuer.mint(expires_in=-10)
    lenient, exact = issuer.verifier(leeway_seconds=30), issuer.verifier(leeway_seconds=0)
    assert (await lenient.verify(just_expired)).subject
    with pytest.raises(InvalidToken, match="expired"):
        await exact.verify(just_expired)
    await lenient.aclose()
    await exact.aclose()


async def test_a_repeated_token_is_verified_once_and_refused_once_it_expires(issuer: LocalIssuer) -> None:
    verifier = issuer.verifier(leeway_seconds=0)
    token = issuer.mint(expires_in=1.5)
    first = await verifier.verify(token)
    assert await verifier.verify(token) is first  # the cached claims: no second signature check
    time.sleep(max(0.0, first.expires_at.timestamp() - time.time()) + 0.05)
    with pytest.raises(InvalidToken, match="expired"):
        await verifier.verify(token)
    await verifier.aclose()


async def test_the_claims_carry_what_the_token_says(issuer: LocalIssuer) -> None:
    verifier = issuer.verifier()
    token = issuer.mint("user-7", roles=["admin", "support"], scope="a b", session_id="s-7", team="blue")
    claims = await verifier.verify(token)
    assert (claims.subject, claims.session_id, claims.issuer, claims.audience) == (
        "user-7", "s-7", issuer.issuer, (issuer.audience,))
    assert claims.roles == {"admin", "support"}
    assert claims.scopes == {"a", "b"}
    assert claims.raw["team"] == "blue"
    assert claims.expires_at.timestamp() - claims.issued_at.timestamp() == 300
    with pytest.raises(TypeError):
        claims.raw["team"] = "red"  # type: ignore[index]
    await verifier.aclose()
