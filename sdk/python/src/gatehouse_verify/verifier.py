"""`GatehouseVerifier`: checks Gatehouse's access tokens in another service, and guards its FastAPI routes."""

# No `from __future__ import annotations` here: FastAPI reads the signature of the dependency that
# `require()` makes, whose annotation names a local (the bearer scheme), so it must be evaluated in place.
import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Annotated, Any, Literal

import httpx
import jwt
from fastapi import Depends, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from gatehouse_verify.claims import Claims
from gatehouse_verify.errors import ClientRejected, ConfigurationError, InsufficientScope, InvalidToken, Unavailable
from gatehouse_verify.introspection import MAX_CACHE_SECONDS, Introspector
from gatehouse_verify.keys import RETRY_AFTER_FAILURE_SECONDS, KeySet

log = logging.getLogger("gatehouse_verify")

MAX_TOKEN_LENGTH = 8192
_ACCEPTED_TYP = {"at+jwt", "application/at+jwt"}
_SYMMETRIC = {"HS256", "HS384", "HS512"}
DEFAULT_REQUIRED_CLAIMS = ("exp", "iat", "iss", "aud", "sub", "jti")
_CACHE_LIMIT = 10_000
WhenUnreachable = Literal["refuse", "trust_signature"]


class GatehouseVerifier:
    """Verifies access tokens issued by the Gatehouse at `issuer` for `audience`.

    Keys come from the issuer's RFC 8414 metadata (`jwks_uri`) and are cached. With
    `introspect=(client_id, client_secret)` (strict mode) every token is also checked at Gatehouse's
    introspection endpoint, answers cached for at most a second, so a revoked session or a disabled user is
    refused here within about a second. `when_unreachable` says what strict mode does when Gatehouse cannot be
    asked: "refuse" (the default: 503) or "trust_signature" (accept a token whose signature and claims check
    out, as without strict mode)."""

    def __init__(self, issuer: str, audience: str, *, introspect: tuple[str, str] | None = None,
                 when_unreachable: WhenUnreachable = "refuse", leeway_seconds: float = 30.0,
                 required_claims: Collection[str] = DEFAULT_REQUIRED_CLAIMS,
                 introspection_cache_seconds: float = MAX_CACHE_SECONDS, min_refetch_interval: float = 10.0,
                 keys_max_age: float = 300.0, timeout_seconds: float = 5.0,
                 http_client: httpx.AsyncClient | None = None, metadata_url: str | None = None) -> None:
        if not issuer.startswith(("https://", "http://")):
            raise ValueError("issuer is Gatehouse's issuer URL, e.g. https://auth.example.com")
        if when_unreachable not in ("refuse", "trust_signature"):
            raise ValueError('when_unreachable is "refuse" or "trust_signature"')
        self.issuer = issuer.rstrip("/")
        self.audience = audience
        self._leeway = leeway_seconds
        self._required = sorted({*required_claims, "exp", "iss", "aud", "sub"})
        self._when_unreachable = when_unreachable
        self._metadata_url = metadata_url or f"{self.issuer}/.well-known/oauth-authorization-server"
        self._http = http_client or httpx.AsyncClient(timeout=timeout_seconds)
        self._owns_http = http_client is None
        self._metadata: Mapping[str, Any] | None = None
        self._metadata_lock = asyncio.Lock()
        self._discovery_retry_at = -math.inf
        self._keys = KeySet(self._fetch_jwks, min_refetch_interval=min_refetch_interval, max_age=keys_max_age)
        self._introspector = None if introspect is None else Introspector(
            self._http, self._introspection_endpoint, introspect, cache_seconds=introspection_cache_seconds)
        # token → (claims, kid) for tokens whose signature and claims were checked already: a client presenting
        # one token on every request pays the signature check once, until the token expires or its key goes.
        self._verified: dict[str, tuple[Claims, str]] = {}
        self._bearer = HTTPBearer(auto_error=False, description="An access token issued by Gatehouse")

    @property
    def strict(self) -> bool:
        return self._introspector is not None

    async def start(self) -> None:
        """Discover the endpoints and fetch the keys now (e.g. in the app's lifespan), so a misconfiguration
        fails at start-up: raises ConfigurationError for an HS256 Gatehouse without strict mode, Unavailable
        when Gatehouse cannot be reached."""
        await self._discover()
        keys = await self._keys.load()
        if not keys and not self.strict:
            raise self._no_keys()

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def verify(self, token: str) -> Claims:
        """The claims of a token this service accepts. Raises InvalidToken (answer 401), or Unavailable
        (answer 503) when the token cannot be checked now."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise InvalidToken("The access token is malformed")
        claims = await self._verify_locally(token)
        if self._introspector is None:
            if claims is None:  # not reached: only strict mode leaves a token to introspection
                raise self._no_keys()
            return claims
        try:
            answer = await self._introspector.check(token)
        except Unavailable as error:
            if claims is not None and self._when_unreachable == "trust_signature" and not isinstance(
                    error, ClientRejected):  # wrong credentials are a mistake to fix, not an outage to ride out
                log.warning("gatehouse_verify: Gatehouse is unreachable; accepting a token on its signature alone")
                return claims
            raise
        if answer is None:
            raise InvalidToken("The access token is no longer active")
        if claims is None:  # a symmetric (HS256) token: the answer is all there is
            return self._claims_from_answer(answer)
        return claims.with_roles(_roles(answer.get("roles"), claims.roles))

    def require(self, *, roles: Collection[str] = (), scopes: Collection[str] = ()
                ) -> Callable[..., Awaitable[Claims]]:
        """A FastAPI dependency: the request's verified claims, having every role in `roles` and every scope
        in `scopes`. Answers 401 with `WWW-Authenticate: Bearer error="invalid_token"` for a missing or bad
        token, 403 `error="insufficient_scope"` for a missing role or scope, 503 when it cannot check."""
        needed_roles, needed_scopes = frozenset(roles), frozenset(scopes)
        bearer = self._bearer

        async def verified_claims(
                credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Claims:
            if credentials is None:
                raise HTTPException(401, "This needs an access token: send Authorization: Bearer <token>",
                                    headers={"WWW-Authenticate": "Bearer"})
            try:
                claims = await self.verify(credentials.credentials)
                ensure_allowed(claims, needed_roles, needed_scopes)
            except InvalidToken as error:
                raise HTTPException(401, str(error), headers=_challenge("invalid_token", str(error))) from None
            except InsufficientScope as error:
                raise HTTPException(403, str(error), headers=_challenge(
                    "insufficient_scope", str(error), scope=" ".join(sorted(needed_scopes)))) from None
            except Unavailable as error:
                raise HTTPException(503, f"The access token could not be checked: {error}",
                                    headers={"Retry-After": "1"}) from None
            except ConfigurationError as error:
                log.error("gatehouse_verify: %s", error)
                raise HTTPException(503, "The access token could not be checked", headers={"Retry-After": "1"}
                                    ) from None
            return claims

        return verified_claims

    async def _verify_locally(self, token: str) -> Claims | None:
        """The token's claims by signature; None for a symmetric token in strict mode (left to introspection)."""
        seen = self._verified.get(token)
        if seen is not None:
            claims, kid = seen
            if claims.expires_at.timestamp() + self._leeway > time.time() and self._keys.holds(kid):
                return claims
            del self._verified[token]
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise InvalidToken("The access token is malformed") from None
        if str(header.get("typ", "")).lower() not in _ACCEPTED_TYP:
            raise InvalidToken("Not an access token")
        algorithm, key_id = header.get("alg"), header.get("kid")
        if algorithm in _SYMMETRIC and self.strict:
            return None  # an HS256 Gatehouse: only introspection can tell
        await self._discover()
        key = await self._keys.get(key_id) if isinstance(key_id, str) else None
        if key is None or algorithm != key.algorithm:
            if self._keys.loaded and self._keys.empty and not self.strict:
                raise self._no_keys()
            if key is None:
                raise InvalidToken("The access token was not signed by a known key")
            raise InvalidToken("The access token's algorithm does not match its key")
        try:
            payload = jwt.decode(token, key.key, algorithms=[key.algorithm], audience=self.audience,
                                 issuer=self.issuer, leeway=self._leeway,
                                 options={"require": self._required, "strict_aud": False})
            if "iat" in payload and float(payload["iat"]) > time.time() + self._leeway:
                raise InvalidToken("The access token was issued in the future")
            claims = Claims.from_payload(payload)
        except jwt.ExpiredSignatureError:
            raise InvalidToken("The access token has expired") from None
        except (jwt.PyJWTError, ValueError, TypeError, KeyError):
            raise InvalidToken("The access token is invalid") from None
        if len(self._verified) >= _CACHE_LIMIT:
            self._verified.clear()
        self._verified[token] = (claims, key.kid)
        return claims

    def _claims_from_answer(self, answer: Mapping[str, Any]) -> Claims:
        try:
            claims = Claims.from_payload(answer, roles=_roles(answer.get("roles"), frozenset()))
        except (ValueError, TypeError, KeyError):
            raise Unavailable("Gatehouse's answer to the token check lacked claims") from None
        if claims.issuer != self.issuer or self.audience not in claims.audience:
            raise InvalidToken("The access token is for another issuer or audience")
        if claims.expires_at.timestamp() + self._leeway <= time.time():
            raise InvalidToken("The access token has expired")
        return claims

    async def _discover(self) -> Mapping[str, Any]:
        if self._metadata is not None:
            return self._metadata
        async with self._metadata_lock:  # one discovery for the requests that arrive together
            if self._metadata is None:
                if time.monotonic() < self._discovery_retry_at:  # a failed read is retried once a second
                    raise Unavailable("Gatehouse's metadata could not be read")
                self._discovery_retry_at = time.monotonic() + RETRY_AFTER_FAILURE_SECONDS
                try:
                    response = await self._http.get(self._metadata_url, headers={"Accept": "application/json"})
                    response.raise_for_status()
                    metadata = response.json()
                except (httpx.HTTPError, ValueError) as error:
                    log.warning("gatehouse_verify: reading %s failed (%s)", self._metadata_url, type(error).__name__)
                    raise Unavailable(f"Gatehouse's metadata could not be read ({type(error).__name__})") from None
                if not isinstance(metadata, dict) or metadata.get("issuer") != self.issuer:
                    # RFC 8414 §3.3: the metadata must name the issuer it was asked for
                    raise ConfigurationError(f"{self._metadata_url} does not describe the issuer {self.issuer}")
                self._metadata = metadata
        return self._metadata

    async def _fetch_jwks(self) -> object:
        uri = (await self._discover()).get("jwks_uri")
        if not isinstance(uri, str):
            raise ConfigurationError("Gatehouse's metadata names no jwks_uri")
        response = await self._http.get(uri, headers={"Accept": "application/json"})
        response.raise_for_status()
        return response.json()

    async def _introspection_endpoint(self) -> str:
        endpoint = (await self._discover()).get("introspection_endpoint")
        if not isinstance(endpoint, str):
            raise Unavailable("Gatehouse's metadata names no introspection_endpoint")
        return endpoint

    def _no_keys(self) -> ConfigurationError:
        return ConfigurationError(
            f"{self.issuer} publishes no public signing keys (an HS256 deployment); its tokens can only be "
            "checked in strict mode: GatehouseVerifier(..., introspect=(client_id, client_secret))")


def ensure_allowed(claims: Claims, roles: frozenset[str], scopes: frozenset[str]) -> None:
    missing_roles, missing_scopes = roles - claims.roles, scopes - claims.scopes
    if missing_roles:
        raise InsufficientScope(f"This needs the role(s): {', '.join(sorted(missing_roles))}")
    if missing_scopes:
        raise InsufficientScope(f"This needs the scope(s): {', '.join(sorted(missing_scopes))}")


def _roles(claim: object, otherwise: frozenset[str]) -> frozenset[str]:
    if isinstance(claim, list) and all(isinstance(role, str) for role in claim):
        return frozenset(claim)
    return otherwise


def _challenge(error: str, description: str, scope: str = "") -> dict[str, str]:
    parts = [f'error="{error}"', f'error_description="{_quoted(description)}"']
    if scope:
        parts.append(f'scope="{_quoted(scope)}"')
    return {"WWW-Authenticate": "Bearer " + ", ".join(parts)}


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', "'")
