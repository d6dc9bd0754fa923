from __future__ import annotations

from domain.errors import InvalidToken
from domain.ports import AccessTokenSigner, Clock, SessionActivity
from domain.tokens import AccessTokenClaims, Principal


class Authenticate:
    """Bearer token → verified claims → live session. Every protected route goes through this."""

    def __init__(self, signer: AccessTokenSigner, activity: SessionActivity, clock: Clock) -> None:
        self._signer = signer
        self._activity = activity
        self._clock = clock

    async def live_claims(self, token: str) -> AccessTokenClaims:
        """The token's claims if it passes every check (the signer's) and its session is live; else InvalidToken.
        What every protected route honours, and what introspection answers `active` for."""
        claims = self._signer.verify(token)
        if not await self._activity.is_active(claims.session_id, claims.subject, self._clock.now()):
            raise InvalidToken("The session of this token has ended")
        return claims

    async def execute(self, token: str) -> Principal:
        claims = await self.live_claims(token)
        return Principal(user_id=claims.subject, session_id=claims.session_id, scope=claims.scope,
                         token_expires_at=claims.expires_at)
