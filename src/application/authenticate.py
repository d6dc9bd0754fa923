from __future__ import annotations

from domain.errors import InvalidToken
from domain.observations import NO_METRICS, VerificationResult
from domain.ports import AccessTokenSigner, Clock, Metrics, SessionActivity
from domain.tokens import AccessTokenClaims, Principal


class Authenticate:
    """Bearer token → verified claims → live session. Every protected route goes through this."""

    def __init__(self, signer: AccessTokenSigner, activity: SessionActivity, clock: Clock,
                 metrics: Metrics = NO_METRICS) -> None:
        self._metrics = metrics
        self._signer = signer
        self._activity = activity
        self._clock = clock

    async def live_claims(self, token: str) -> AccessTokenClaims:
        """The token's claims if it passes every check (the signer's) and its session is live; else InvalidToken.
        What every protected route honours, and what introspection answers `active` for."""
        try:
            claims = self._signer.verify(token)
        except InvalidToken:
            self._metrics.token_verified(VerificationResult.INVALID)
            raise
        if not await self._activity.is_active(claims.session_id, claims.subject, self._clock.now()):
            self._metrics.token_verified(VerificationResult.SESSION_ENDED)
            raise InvalidToken("The session of this token has ended")
        self._metrics.token_verified(VerificationResult.VALID)
        return claims

    async def execute(self, token: str) -> Principal:
        claims = await self.live_claims(token)
        return Principal(user_id=claims.subject, session_id=claims.session_id, scope=claims.scope,
                         token_expires_at=claims.expires_at)
