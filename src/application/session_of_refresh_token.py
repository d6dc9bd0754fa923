from __future__ import annotations

from uuid import UUID

from application.unit_of_work import UnitOfWorkFactory
from domain.tokens import MAX_REFRESH_TOKEN_LENGTH, TokenDigest


class SessionOfRefreshToken:
    """Which session a refresh token (current or spent) belongs to, changing nothing: what a browser request's CSRF
    token is checked against before the refresh or logout it asks for may touch the session."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def execute(self, refresh_token: str) -> UUID | None:
        if not refresh_token or len(refresh_token) > MAX_REFRESH_TOKEN_LENGTH:
            return None
        async with self._uow(autocommit=True) as uow:
            session = await uow.sessions.find_by_token(TokenDigest.of(refresh_token))
        return session.id if session else None
