"""The issuer's public keys: read from its JWKS, cached, refetched once for an unknown `kid`.

A refetch is single-flight (concurrent requests share one) and spaced by a minimum interval, so a flood of
tokens with made-up `kid`s costs Gatehouse one JWKS request per interval, not one per token. When a fetch
fails the keys already held stay in use, so a short Gatehouse outage does not stop verification."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from gatehouse_verify.errors import Unavailable

log = logging.getLogger("gatehouse_verify")

# Only asymmetric algorithms: a key that verifies a signature must not be able to make one, so `none` and the
# HMAC family are never accepted, whatever a token's header or a JWKS says.
_FAMILY = {
    "EdDSA": "OKP", "ES256": "EC", "ES384": "EC", "ES512": "EC",
    "RS256": "RSA", "RS384": "RSA", "RS512": "RSA", "PS256": "RSA", "PS384": "RSA", "PS512": "RSA",
}
_BY_CURVE = {"Ed25519": "EdDSA", "P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}
RETRY_AFTER_FAILURE_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class VerificationKey:
    kid: str
    algorithm: str
    key: Any  # a `cryptography` public key


def parse_jwks(document: object) -> dict[str, VerificationKey]:
    """The usable signing keys of a JWKS by `kid`; members that are not asymmetric signature keys are
    skipped. Raises ValueError when the document is not a JWKS at all."""
    members = document.get("keys") if isinstance(document, Mapping) else None
    if not isinstance(members, list):
        raise ValueError("not a JWK Set")
    keys: dict[str, VerificationKey] = {}
    for jwk in members:
        if not isinstance(jwk, dict) or not isinstance(jwk.get("kid"), str) or jwk.get("use", "sig") != "sig":
            continue
        algorithm = jwk.get("alg") or _BY_CURVE.get(str(jwk.get("crv")), "RS256" if jwk.get("kty") == "RSA" else "")
        if _FAMILY.get(algorithm) != jwk.get("kty"):
            continue
        try:
            key = jwt.PyJWK(jwk, algorithm=algorithm).key
        except (jwt.PyJWTError, ValueError, TypeError, KeyError):
            continue
        keys[jwk["kid"]] = VerificationKey(jwk["kid"], algorithm, key)
    return keys


class KeySet:
    def __init__(self, fetch: Callable[[], Awaitable[object]], *, min_refetch_interval: float, max_age: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._fetch = fetch
        self._min_interval = min_refetch_interval
        self._max_age = max_age
        self._clock = clock
        self._keys: dict[str, VerificationKey] = {}
        self._fetched_at: float | None = None  # last successful fetch
        self._next_attempt = -math.inf  # no fetch for an unknown kid before this
        self._inflight: asyncio.Task[None] | None = None

    @property
    def loaded(self) -> bool:
        return self._fetched_at is not None

    @property
    def empty(self) -> bool:
        return not self._keys

    def holds(self, kid: str) -> bool:
        """Whether `kid` is still published, as far as is known (a stale set starts a refetch in the background)."""
        self._refresh_if_stale()
        return kid in self._keys

    async def load(self) -> dict[str, VerificationKey]:
        """Fetch now (joining a fetch under way); the keys held afterwards."""
        await self._refresh()
        if not self.loaded:
            raise Unavailable("Gatehouse's signing keys could not be fetched")
        return dict(self._keys)

    async def get(self, kid: str) -> VerificationKey | None:
        """The key for `kid`, refetching the set at most once per interval when it is unknown or stale;
        None for a kid the issuer does not publish. Raises Unavailable while no key set was ever fetched."""
        key = self._keys.get(kid)
        if key is not None:
            self._refresh_if_stale()
            return key
        if self._clock() >= self._next_attempt:
            await self._refresh()
            key = self._keys.get(kid)
        if key is None and not self.loaded:
            raise Unavailable("Gatehouse's signing keys could not be fetched")
        return key

    def _refresh_if_stale(self) -> None:
        now = self._clock()
        if self._fetched_at is not None and now - self._fetched_at > self._max_age and now >= self._next_attempt:
            self._start_refresh()  # answer with the keys held; the fresh set serves the next requests

    def _start_refresh(self) -> asyncio.Task[None]:
        if self._inflight is None:
            self._inflight = asyncio.create_task(self._fetch_once())
        return self._inflight

    async def _refresh(self) -> None:
        await asyncio.shield(self._start_refresh())  # a cancelled request does not cancel the shared fetch

    async def _fetch_once(self) -> None:
        try:
            self._next_attempt = self._clock() + RETRY_AFTER_FAILURE_SECONDS
            try:
                keys = parse_jwks(await self._fetch())
            except Exception as error:  # any failure: keep the keys held, say why
                log.warning("gatehouse_verify: fetching the JWKS failed (%s); %s", _describe(error),
                            f"keeping the {len(self._keys)} keys held" if self.loaded else "no keys yet")
                return
            self._keys, self._fetched_at = keys, self._clock()
            self._next_attempt = self._fetched_at + self._min_interval
        finally:
            self._inflight = None


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
