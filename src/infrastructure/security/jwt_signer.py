"""Access tokens as RFC 9068 JWTs, signed and verified with PyJWT; the algorithm is pinned."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

import jwt

from domain.errors import InvalidToken
from domain.ports import AccessTokenSigner
from domain.tokens import MAX_TOKEN_LENGTH, AccessTokenClaims
from infrastructure.security.keys import KeyRing
from infrastructure.utils.base64url import is_canonical_jws

_ACCEPTED_TYP = {"at+jwt", "application/at+jwt"}
_REQUIRED = ["exp", "iat", "iss", "aud", "sub", "sid", "jti"]
_CACHE_LIMIT = 10_000


class PyJwtAccessTokenSigner(AccessTokenSigner):
    def __init__(self, keyring: KeyRing, *, issuer: str, audience: str, leeway_seconds: int) -> None:
        self._keys = keyring
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway_seconds
        # token → claims for tokens whose signature and claims were verified already: a client
        # re-presenting one token on every request pays the signature check once. Entries are
        # re-checked for expiry on every use; the cache is bounded and simply cleared when full.
        self._verified: dict[str, AccessTokenClaims] = {}

    def issue(self, claims: AccessTokenClaims) -> str:
        payload = {
            "iss": claims.issuer, "aud": claims.audience, "sub": str(claims.subject),
            "sid": str(claims.session_id), "jti": claims.token_id,
            "iat": int(claims.issued_at.timestamp()), "exp": int(claims.expires_at.timestamp()),
            "scope": claims.scope, "roles": list(claims.roles),
        }
        return jwt.encode(payload, self._keys.signing_key, algorithm=self._keys.algorithm,
                          headers={"kid": self._keys.signing_kid, "typ": "at+jwt"})

    def verify(self, token: str) -> AccessTokenClaims:
        cached = self._verified.get(token)  # only canonical tokens get in (below)
        if cached is not None:
            if cached.expires_at.timestamp() + self._leeway > time.time():
                return cached
            del self._verified[token]
            raise InvalidToken("The access token has expired")
        claims = self._verify(token)
        if len(self._verified) >= _CACHE_LIMIT:
            self._verified.clear()
        self._verified[token] = claims
        return claims

    def _verify(self, token: str) -> AccessTokenClaims:
        if len(token) > MAX_TOKEN_LENGTH:
            raise InvalidToken("The access token is too long")
        if not is_canonical_jws(token):
            raise InvalidToken("The access token is malformed")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise InvalidToken("The access token is malformed") from None
        if str(header.get("typ", "")).lower() not in _ACCEPTED_TYP:
            raise InvalidToken("Not an access token")
        kid = header.get("kid")
        key = self._keys.verification_keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise InvalidToken("The access token was not signed by a known key")
        try:
            payload = jwt.decode(
                token, key, algorithms=[self._keys.algorithm], audience=self._audience,
                issuer=self._issuer, leeway=self._leeway,
                options={"require": _REQUIRED, "strict_aud": True},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("The access token has expired") from None
        except jwt.PyJWTError:
            raise InvalidToken("The access token is invalid") from None
        return self._claims(payload)

    def _claims(self, payload: dict[str, Any]) -> AccessTokenClaims:
        iat, exp, scope = payload["iat"], payload["exp"], payload.get("scope", "")
        if not isinstance(iat, int | float) or not isinstance(exp, int | float) or not isinstance(scope, str):
            raise InvalidToken("The access token is invalid")
        if iat > time.time() + self._leeway:
            raise InvalidToken("The access token was issued in the future")
        try:
            subject, session_id = uuid.UUID(str(payload["sub"])), uuid.UUID(str(payload["sid"]))
        except ValueError:
            raise InvalidToken("The access token is invalid") from None
        return AccessTokenClaims(
            issuer=self._issuer, audience=self._audience, subject=subject, session_id=session_id,
            token_id=str(payload["jti"]), issued_at=datetime.fromtimestamp(iat, UTC),
            expires_at=datetime.fromtimestamp(exp, UTC), scope=scope, roles=_roles(payload.get("roles")),
        )


def _roles(claim: object) -> tuple[str, ...]:
    """The `roles` claim (a token minted before roles existed has none: no roles)."""
    if claim is None:
        return ()
    if not isinstance(claim, list) or not all(isinstance(role, str) for role in claim):
        raise InvalidToken("The access token is invalid")
    return tuple(claim)
