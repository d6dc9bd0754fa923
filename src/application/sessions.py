"""Listing and ending the caller's sessions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from application.unit_of_work import UnitOfWorkFactory
from domain.errors import NotFound
from domain.ports import Clock, SessionActivity
from domain.session import RevocationReason, SessionPolicy
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
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, policy: SessionPolicy) -> None:
        self._uow = uow
        self._clock = clock
        self._policy = policy

    async def execute(self, principal: Principal) -> list[SessionView]:
        now = self._clock.now()
        async with self._uow(autocommit=True) as uow:
            sessions = await uow.sessions.list_active(principal.user_id, now, self._policy.idle_cutoff(now))
        return [
            SessionView(id=s.id, created_at=s.created_at, last_used_at=s.last_used_at,
                        expires_at=s.expires_at(self._policy), user_agent=s.user_agent, ip=s.ip,
                        current=s.id == principal.session_id)
            for s in sessions
            if s.is_active(now, self._policy)
        ]


class EndSession:
    """End one of the caller's sessions; another user's session is indistinguishable from none."""

    def __init__(self, uow: UnitOfWorkFactory, activity: SessionActivity, clock: Clock,
                 policy: SessionPolicy) -> None:
        self._uow = uow
        self._activity = activity
        self._clock = clock
        self._policy = policy

    async def execute(self, principal: Principal, session_id: UUID) -> None:
        now = self._clock.now()
        async with self._uow() as uow:
            session = await uow.sessions.get(session_id)
            if (session is None or session.user_id != principal.user_id
                    or not session.is_active(now, self._policy)):
                raise NotFound("No such session")
            await uow.sessions.revoke(session_id, now, RevocationReason.ENDED_BY_USER)
            await uow.commit()
        self._activity.forget([session_id])


class LogOutEverywhere:
    def __init__(self, uow: UnitOfWorkFactory, activity: SessionActivity, clock: Clock) -> None:
        self._uow = uow
        self._activity = activity
        self._clock = clock

    async def execute(self, principal: Principal) -> None:
        async with self._uow() as uow:
            ended = await uow.sessions.revoke_all_of_user(principal.user_id, self._clock.now(),
                                                          RevocationReason.LOGOUT_ALL)
            await uow.commit()
        self._activity.forget([*ended, principal.session_id])
