from __future__ import annotations

from uuid import UUID

from application.authenticate import Authenticate
from application.dto import BrowserSession
from application.unit_of_work import UnitOfWorkFactory
from domain.errors import InvalidRefreshToken, InvalidToken, NotAuthenticated
from domain.ports import Clock
from domain.session import SessionPolicy, policy_for
from domain.tokens import MAX_REFRESH_TOKEN_LENGTH, TokenDigest


class ReadBrowserSession:
    """The session a reloaded page's cookies stand for, so it can get its CSRF token back: by the access cookie
    (the bearer chain's own check), else by the refresh cookie (a live session that token answers for)."""

    def __init__(self, authenticate: Authenticate, uow: UnitOfWorkFactory, clock: Clock,
                 policy: SessionPolicy, browser_policy: SessionPolicy) -> None:
        self._authenticate = authenticate
        self._uow = uow
        self._clock = clock
        self._policy = policy
        self._browser_policy = browser_policy

    async def execute(self, access_token: str | None, refresh_token: str | None) -> BrowserSession:
        if access_token:
            try:
                principal = await self._authenticate.execute(access_token)
            except InvalidToken:
                if not refresh_token:
                    raise
            else:
                left = (principal.token_expires_at - self._clock.now()).total_seconds()
                return await self._session(principal.user_id, principal.session_id, max(0, int(left)))
        if not refresh_token:
            raise NotAuthenticated("No browser session: log in at /auth/browser/login")
        if len(refresh_token) > MAX_REFRESH_TOKEN_LENGTH:
            raise InvalidRefreshToken()
        async with self._uow(autocommit=True) as uow:
            session = await uow.sessions.find_by_token(TokenDigest.of(refresh_token))
        policy = policy_for(refresh_token, self._policy, self._browser_policy)
        if session is None or not session.answers_to(TokenDigest.of(refresh_token), self._clock.now(), policy):
            raise InvalidRefreshToken()
        return await self._session(session.user_id, session.id, 0)

    async def _session(self, user_id: UUID, session_id: UUID, expires_in: int) -> BrowserSession:
        async with self._uow(autocommit=True) as uow:
            user = await uow.users.get_profile(user_id)
        if user is None or not user.is_active:
            raise InvalidRefreshToken()
        return BrowserSession(user=user, session_id=session_id, expires_in=expires_in)
