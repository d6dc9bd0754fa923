from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from application.unit_of_work import UnitOfWorkFactory
from domain.ports import Clock
from domain.session import Session, SessionPolicy
from domain.tokens import Principal


@dataclass(frozen=True, slots=True)
class SessionView:
    id: UUID
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    user_agent: str | None
    ip: str | None
    current: bool


class ListSessions:
    """The caller's live sessions (the repository keeps only live ones), the caller's own marked."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, policy: SessionPolicy) -> None:
        self._uow = uow
        self._clock = clock
        self._policy = policy

    async def execute(self, principal: Principal) -> list[SessionView]:
        now = self._clock.now()
        async with self._uow(autocommit=True) as uow:
            sessions = await uow.sessions.list_active(principal.user_id, now, self._policy.idle_cutoff(now))
        return session_views(sessions, self._policy, current=principal.session_id)


def session_views(sessions: list[Session], policy: SessionPolicy, current: UUID | None) -> list[SessionView]:
    return [SessionView(id=s.id, created_at=s.created_at, last_used_at=s.last_used_at, expires_at=s.expires_at(policy),
                        user_agent=s.user_agent, ip=s.ip, current=s.id == current)
            for s in sessions]
