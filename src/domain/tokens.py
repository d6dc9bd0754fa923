"""Token value objects: refresh-token digests and access-token claims."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

_HEX = frozenset("0123456789abcdef")
MAX_TOKEN_LENGTH = 8192  # the longest token (access or refresh) accepted for revocation; longer is no token of ours
MAX_REFRESH_TOKEN_LENGTH = 512  # the longest refresh token looked up for rotation


@dataclass(frozen=True, slots=True)
class TokenDigest:
    """SHA-256 of an opaque refresh token, hex encoded. The only form in which a refresh token is stored."""

    value: str

    def __post_init__(self) -> None:
        if len(self.value) != 64 or not _HEX.issuperset(self.value):
            raise ValueError("a token digest is 64 lowercase hex characters")

    @classmethod
    def of(cls, token: str) -> TokenDigest:
        return cls(hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest())

    def matches(self, other: TokenDigest) -> bool:
        return hmac.compare_digest(self.value, other.value)

    def matches_secret(self, secret: str) -> bool:
        """Whether `secret` is what this digests, compared in constant time (no second TokenDigest built)."""
        return hmac.compare_digest(self.value, hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest())


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessTokenClaims:
    issuer: str
    audience: str
    subject: UUID
    session_id: UUID
    token_id: str
    issued_at: datetime
    expires_at: datetime
    scope: str = ""
    roles: tuple[str, ...] = ()  # the account's when the token was minted (RFC 9068 §2.2.3.1)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the verified subject of a live session."""

    user_id: UUID
    session_id: UUID
    scope: str
    token_expires_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuedTokens:
    access_token: str
    expires_in: int
    refresh_token: str
    scope: str
    session_id: UUID
    user_id: UUID
    session_expires_in: int  # seconds until the session's absolute expiry: how long a refresh cookie may live
