from __future__ import annotations

from uuid import UUID

from application.administration import account
from application.list_sessions import SessionView, session_views
from application.unit_of_work import UnitOfWorkFactory
from domain.ports import Clock
from domain.session import SessionPolicy


class ListUserSessions:
    """An account's live sessions, as an admin sees them (none is "current")."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, policy: SessionPolicy) -> None:
        self._uow = uow
        self._clock = clock
        self._policy = policy

    async def execute(self, user_id: UUID) -> list[SessionView]:
        now = self._clock.now()
        async with self._uow(autocommit=True) as uow:
            await account(uow, user_id)
            sessions = await uow.sessions.list_active(user_id, now, self._policy.idle_cutoff(now))
        return session_views(sessions, self._policy, current=None)
