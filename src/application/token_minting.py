"""Minting access tokens for a session (shared by login, refresh and grace retries)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.ports import AccessTokenSigner, IdGenerator
from domain.session import Session, SessionPolicy
from domain.tokens import AccessTokenClaims, IssuedTokens


@dataclass(frozen=True, slots=True)
class IssuerAndAudience:
    """The `iss` and `aud` every access token is stamped with."""

    issuer: str
    audience: str


class AccessTokenMinter:
    def __init__(self, signer: AccessTokenSigner, ids: IdGenerator, policy: SessionPolicy,
                 addressing: IssuerAndAudience) -> None:
        self._signer = signer
        self._ids = ids
        self._policy = policy
        self._addressing = addressing

    def mint(self, session: Session, refresh_token: str, now: datetime, roles: tuple[str, ...]) -> IssuedTokens:
        """`roles`: the account's as they are now (read with the session: at login, at every refresh)."""
        expires = self._policy.access_token_expiry(now, session.expires_at(self._policy))
        claims = AccessTokenClaims(
            issuer=self._addressing.issuer,
            audience=self._addressing.audience,
            subject=session.user_id,
            session_id=session.id,
            token_id=self._ids.new_id().hex,
            issued_at=now,
            expires_at=expires,
            scope="",
            roles=roles,
        )
        return IssuedTokens(
            access_token=self._signer.issue(claims),
            expires_in=max(0, int((expires - now).total_seconds())),
            refresh_token=refresh_token,
            scope="",
            session_id=session.id,
            user_id=session.user_id,
            session_expires_in=max(0, int((session.absolute_expires_at - now).total_seconds())),
        )
