"""Keys: discovered from the metadata, cached, refetched once per interval for an unknown kid, kept when
Gatehouse is down (offline)."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

from gatehouse_verify import ConfigurationError, InvalidToken, Unavailable
from gatehouse_verify.keys import parse_jwks
from gatehouse_verify.testing import LocalIssuer
from verify_helpers import bearer, sibling_app

JWKS = "/.well-known/jwks.json"
METADATA = "/.well-known/oauth-authorization-server"


async def test_a_flood_of_made_up_kids_costs_one_jwks_request(issuer: LocalIssuer) -> None:
    verifier = issuer.verifier(min_refetch_interval=0.3)
    await verifier.verify(issuer.mint())  # keys loaded
    assert issuer.requests[JWKS] == 1
    for wave in range(2):
        await asyncio.sleep(0.35)  # the interval since the last fetch has passed
        forged = [issuer.mint(headers={"kid": f"forged-{wave}-{i}"}) for i in range(200)]
        outcomes = await asyncio.gather(*(verifier.verify(t) for t in forged), return_exceptions=True)
        assert all(isinstance(o, InvalidToken) for o in outcomes)
        assert issuer.requests[JWKS] == 2 + wave  # one refetch, shared by all 200
        outcomes = await asyncio.gather(*(verifier.verify(t) for t in forged), return_exceptions=True)
        assert all(isinstance(o, InvalidToken) for o in outcomes)
        assert issuer.requests[JWKS] == 2 + wave  # within the interval: none
    assert issuer.requests[METADATA] == 1
    await verifier.aclose()


async def test_concurrent_first_requests_share_one_discovery_and_one_fetch(issuer: LocalIssuer) -> None:
    verifier = issuer.verifier()
    tokens = [issuer.mint() for _ in range(50)]
    claims = await asyncio.gather(*(verifier.verify(t) for t in tokens))
    assert len({c.token_id for c in claims}) == 50
    assert (issuer.requests[METADATA], issuer.requests[JWKS]) == (1, 1)
    await verifier.aclose()


async def test_a_rotated_key_is_picked_up_by_a_refetch(issuer: LocalIssuer) -> None:
    verifier = issuer.verifier(min_refetch_interval=0.2)
    await verifier.verify(issuer.mint())
    issuer.rotate_key()
    newer = issuer.mint()
    with pytest.raises(InvalidToken, match="known key"):  # within the interval: no refetch yet
        await verifier.verify(newer)
    await asyncio.sleep(0.25)
    assert (await verifier.verify(newer)).subject
    assert issuer.requests[JWKS] == 2
    await verifier.aclose()


async def test_an_unpublished_key_stops_verifying_even_a_token_verified_before(issuer: LocalIssuer) -> None:
    verifier = issuer.verifier(keys_max_age=0, min_refetch_interval=0)
    old_kid = issuer.rotate_key()
    token = issuer.mint()
    await verifier.verify(token)
    issuer.rotate_key()
    issuer.unpublish(old_kid)
    await verifier.verify(token)  # answered with the key held; its age starts a refetch
    await asyncio.sleep(0.05)
    with pytest.raises(InvalidToken, match="known key"):
        await verifier.verify(token)
    await verifier.aclose()


async def test_verification_survives_gatehouse_being_down_with_the_keys_it_has(
        issuer: LocalIssuer, caplog: pytest.LogCaptureFixture) -> None:
    verifier = issuer.verifier(keys_max_age=0, min_refetch_interval=0)
    await verifier.verify(issuer.mint())
    issuer.reachable = False
    with caplog.at_level(logging.WARNING, "gatehouse_verify"):
        for _ in range(3):  # stale keys: each use tries a refetch, which fails; the keys held still serve
            assert (await verifier.verify(issuer.mint())).subject
            await asyncio.sleep(0.01)
    assert any("keeping the 1 keys held" in r.getMessage() for r in caplog.records)
    issuer.reachable = True
    await verifier.aclose()


async def test_gatehouse_down_before_any_key_is_a_503_that_asks_to_retry(issuer: LocalIssuer) -> None:
    issuer.reachable = False
    verifier = issuer.verifier()
    with pytest.raises(Unavailable):
        await verifier.verify(issuer.mint())
    app = sibling_app(verifier)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sibling") as client:
        answer = await client.get("/orders", headers=bearer(issuer.mint()))
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "1"
    assert "could not be checked" in answer.json()["detail"]
    metadata_reads = issuer.requests[METADATA]
    await asyncio.gather(*(verifier.verify(issuer.mint()) for _ in range(50)), return_exceptions=True)
    assert issuer.requests[METADATA] == metadata_reads  # a failed read is not retried within the second
    await asyncio.sleep(1.05)
    issuer.reachable = True
    assert (await verifier.verify(issuer.mint())).subject  # back: discovered and verified
    await verifier.aclose()


async def test_an_hs256_gatehouse_without_strict_mode_says_what_to_do(issuer: LocalIssuer) -> None:
    for kid in list(issuer.jwks()["keys"]):
        issuer.unpublish(kid["kid"])  # what an HS256 deployment publishes: no keys
    verifier = issuer.verifier()
    with pytest.raises(ConfigurationError, match="strict mode"):
        await verifier.start()
    await verifier.aclose()


async def test_metadata_for_another_issuer_is_refused(issuer: LocalIssuer) -> None:
    impostor = LocalIssuer("https://gatehouse.test")
    verifier = impostor.verifier()
    verifier.issuer = "https://auth.example.com"
    with pytest.raises(ConfigurationError, match="does not describe the issuer"):
        await verifier.start()
    await verifier.aclose()


def test_only_asymmetric_signature_keys_are_taken_from_a_jwks() -> None:
    issuer = LocalIssuer()
    [good] = issuer.jwks()["keys"]
    document = {"keys": [
        good,
        {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac", "alg": "HS256"},
        {**good, "kid": "none", "alg": "none"},
        {**good, "kid": "mismatch", "alg": "RS256"},  # an OKP key claiming an RSA algorithm
        {**good, "kid": "encryption", "use": "enc"},
        {**good, "kid": "broken", "x": "!!"},
        "not an object",
    ]}
    assert list(parse_jwks(document)) == [good["kid"]]
    assert parse_jwks(document)[good["kid"]].algorithm == "EdDSA"
    with pytest.raises(ValueError, match="JWK Set"):
        parse_jwks({"keys": "nope"})
