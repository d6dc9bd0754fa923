from __future__ import annotations

from uuid import UUID

from application.unit_of_work import UnitOfWorkFactory
from domain.errors import InvalidToken
from domain.ports import AccessTokenSigner, Clock, SessionActivity, SessionRepository
from domain.session import RevocationReason
from domain.tokens import MAX_TOKEN_LENGTH, TokenDigest


class LogOut:
    """End the session a token belongs to (logout and RFC 7009 revocation).

    Any refresh token of the session, current or already spent, or one of its access tokens will do.
    Unknown or invalid tokens are not an error: the caller learns nothing and nothing changes.
    """

    def __init__(self, uow: UnitOfWorkFactory, signer: AccessTokenSigner, activity: SessionActivity,
                 clock: Clock) -> None:
        self._uow = uow
        self._signer = signer
        self._activity = activity
        self._clock = clock

    async def execute(self, token: str) -> None:
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return
        async with self._uow() as uow:
            session_id = await self._session_of(token, uow.sessions)
            if session_id is None:
                return
            ended = await uow.sessions.revoke(session_id, self._clock.now(), RevocationReason.LOGOUT)
            await uow.commit()
        if ended:
            self._activity.forget([session_id])

    async def _session_of(self, token: str, sessions: SessionRepository) -> UUID | None:
        if token.count(".") == 2:  # a JWS compact serialization: an access token
            try:
                # Verified as for any request: one expired by more than the leeway ends nothing.
                return self._signer.verify(token).session_id
            except InvalidToken:
                return None
        session = await sessions.find_by_token(TokenDigest.of(token))
        return session.id if session is not None else None
