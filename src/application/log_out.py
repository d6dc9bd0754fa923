from __future__ import annotations

from uuid import UUID

from application.dto import ClientInfo
from application.security_log import SecurityLog
from application.unit_of_work import UnitOfWorkFactory
from domain.errors import InvalidToken
from domain.ports import AccessTokenSigner, Clock, SessionActivity, SessionRepository
from domain.security_events import SecurityEventType
from domain.session import RevocationReason
from domain.tokens import MAX_TOKEN_LENGTH, TokenDigest


class LogOut:
    """End the session a token belongs to (logout and RFC 7009 revocation).

    Any refresh token of the session, current or already spent, or one of its access tokens will do.
    Unknown or invalid tokens are not an error: the caller learns nothing and nothing changes.
    """

    def __init__(self, uow: UnitOfWorkFactory, signer: AccessTokenSigner, activity: SessionActivity,
                 clock: Clock, log: SecurityLog) -> None:
        self._uow = uow
        self._log = log
        self._signer = signer
        self._activity = activity
        self._clock = clock

    async def execute(self, token: str, client: ClientInfo | None = None) -> None:
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return
        async with self._uow() as uow:
            owned = await self._session_of(token, uow.sessions)
            if owned is None:
                return
            session_id, user_id = owned
            now = self._clock.now()
            ended = await uow.sessions.revoke(session_id, now, RevocationReason.LOGOUT)
            if ended:
                await uow.security_events.add(self._log.event(user_id, SecurityEventType.SESSION_ENDED, now, client,
                                                              session_id=session_id))
            await uow.commit()
        if ended:
            self._activity.forget([session_id])

    async def _session_of(self, token: str, sessions: SessionRepository) -> tuple[UUID, UUID] | None:
        """The session the token belongs to, and its user."""
        if token.count(".") == 2:  # a JWS compact serialization: an access token
            try:
                # Verified as for any request: one expired by more than the leeway ends nothing.
                claims = self._signer.verify(token)
            except InvalidToken:
                return None
            return claims.session_id, claims.subject
        session = await sessions.find_by_token(TokenDigest.of(token))
        return (session.id, session.user_id) if session is not None else None
