"""A stand-in Gatehouse for a service's own tests, with no network and no Gatehouse running.

    issuer = LocalIssuer()
    verifier = issuer.verifier()               # or issuer.verifier(strict=True)
    token = issuer.mint(roles=["admin"])       # an access token as Gatehouse signs it

`LocalIssuer` signs tokens with an Ed25519 key made in memory and answers the requests a
`GatehouseVerifier` makes (metadata, JWKS, introspection) through an httpx transport. `end_session`,
`set_roles` and `reachable = False` let a test see what strict mode does with a revoked session, changed
roles or an unreachable Gatehouse."""

from __future__ import annotations

import base64
import binascii
import secrets
import time
import uuid
from collections import Counter
from collections.abc import Collection
from typing import Any
from urllib.parse import parse_qs

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from gatehouse_verify.verifier import GatehouseVerifier


class LocalIssuer:
    def __init__(self, issuer: str = "https://gatehouse.test", audience: str = "gatehouse", *,
                 client_id: str = "test-service", client_secret: str | None = None) -> None:
        self.issuer = issuer.rstrip("/")
        self.audience = audience
        self.client_id = client_id
        self.client_secret = client_secret or secrets.token_urlsafe(32)
        self.reachable = True  # False: every request fails to connect, as with Gatehouse down
        self.requests: Counter[str] = Counter()  # path → how many requests the verifiers made
        self._keys: dict[str, Ed25519PrivateKey] = {}
        self._signing_kid = ""
        self._ended_sessions: set[str] = set()
        self._roles: dict[str, list[str]] = {}
        self.rotate_key()

    def rotate_key(self) -> str:
        """A new signing key for the tokens minted from now on; the earlier keys stay published. Its kid."""
        kid = secrets.token_urlsafe(12)
        self._keys[kid] = Ed25519PrivateKey.generate()
        self._signing_kid = kid
        return kid

    def unpublish(self, kid: str) -> None:
        """Stop publishing a key (as Gatehouse does once a retired key's tokens have expired)."""
        del self._keys[kid]

    def mint(self, subject: str | None = None, *, roles: Collection[str] = (), scope: str = "",
             session_id: str | None = None, expires_in: float = 300, issued_at: float | None = None,
             headers: dict[str, Any] | None = None, **claims: Any) -> str:
        """An access token as Gatehouse issues it; `claims` add or replace members (e.g. `aud="other"`), and
        `headers` header members; a member given as None is left out (`jti=None`: a token without `jti`)."""
        now = time.time() if issued_at is None else issued_at
        payload: dict[str, Any] = {
            "iss": self.issuer, "aud": self.audience, "sub": subject or str(uuid.uuid4()),
            "sid": session_id or str(uuid.uuid4()), "jti": secrets.token_urlsafe(16),
            "iat": int(now), "exp": int(now + expires_in), "scope": scope, "roles": sorted(roles), **claims,
        }
        header = {"kid": self._signing_kid, "typ": "at+jwt", **(headers or {})}
        return jwt.encode({k: v for k, v in payload.items() if v is not None}, self._keys[self._signing_kid],
                          algorithm="EdDSA", headers={k: v for k, v in header.items() if v is not None})

    def end_session(self, session_id: str) -> None:
        """Introspection answers `{"active": false}` for the session's tokens from now on."""
        self._ended_sessions.add(session_id)

    def set_roles(self, subject: str, roles: Collection[str]) -> None:
        """Introspection answers with these roles for the user (Gatehouse answers the user's roles now)."""
        self._roles[subject] = sorted(roles)

    def jwks(self) -> dict[str, Any]:
        keys = []
        for kid, key in self._keys.items():
            jwk = OKPAlgorithm.to_jwk(key.public_key(), as_dict=True)
            keys.append({**jwk, "kid": kid, "alg": "EdDSA", "use": "sig"})
        return {"keys": keys}

    def metadata(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer, "jwks_uri": f"{self.issuer}/.well-known/jwks.json",
            "introspection_endpoint": f"{self.issuer}/auth/introspect",
            "introspection_endpoint_auth_methods_supported": ["client_secret_basic"],
        }

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self._answer)

    def verifier(self, *, strict: bool = False, **options: Any) -> GatehouseVerifier:
        """A GatehouseVerifier that talks to this issuer (strict: with its client's credentials)."""
        if strict:
            options.setdefault("introspect", (self.client_id, self.client_secret))
        return GatehouseVerifier(self.issuer, self.audience, http_client=httpx.AsyncClient(
            transport=self.transport(), base_url=self.issuer), **options)

    def _answer(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.requests[path] = self.requests[path] + 1
        if not self.reachable:
            raise httpx.ConnectError("the local issuer is set unreachable", request=request)
        if request.method == "GET" and path == "/.well-known/oauth-authorization-server":
            return httpx.Response(200, json=self.metadata())
        if request.method == "GET" and path == "/.well-known/jwks.json":
            return httpx.Response(200, json=self.jwks())
        if request.method == "POST" and path == "/auth/introspect":
            return self._introspect(request)
        return httpx.Response(404, json={"detail": "Not Found"})

    def _introspect(self, request: httpx.Request) -> httpx.Response:
        if not self._client_authenticated(request.headers.get("authorization", "")):
            return httpx.Response(401, json={"error": "invalid_client"}, headers={"WWW-Authenticate": "Basic"})
        token = parse_qs(request.content.decode()).get("token", [""])[0]
        if not token:
            return httpx.Response(400, json={"error": "invalid_request"})
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = self._keys[kid].public_key() if isinstance(kid, str) and kid in self._keys else None
            if key is None:
                raise jwt.InvalidTokenError("unknown key")
            claims = jwt.decode(token, key, algorithms=["EdDSA"], audience=self.audience, issuer=self.issuer)
        except jwt.PyJWTError:
            return httpx.Response(200, json={"active": False})
        if claims.get("sid") in self._ended_sessions:
            return httpx.Response(200, json={"active": False})
        roles = self._roles.get(str(claims["sub"]), claims.get("roles", []))
        return httpx.Response(200, json={
            "active": True, "token_type": "Bearer", **{k: claims.get(k) for k in (
                "sub", "sid", "iss", "aud", "exp", "iat", "jti", "scope")}, "roles": roles, "client_id": None,
        })

    def _client_authenticated(self, authorization: str) -> bool:
        scheme, _, encoded = authorization.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            client_id, _, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return secrets.compare_digest(client_id.encode(), self.client_id.encode()) and secrets.compare_digest(
            secret.encode(), self.client_secret.encode())


__all__ = ["LocalIssuer"]
