from __future__ import annotations

from uuid import UUID

from application.dto import ClientInfo
from application.security_log import SecurityLog
from application.unit_of_work import UnitOfWorkFactory
from domain.errors import NotFound
from domain.ports import Clock, SessionActivity
from domain.security_events import SecurityEventType
from domain.session import RevocationReason, SessionPolicy
from domain.tokens import Principal


class EndSession:
    """End one of the caller's sessions; another user's session is indistinguishable from none."""

    def __init__(self, uow: UnitOfWorkFactory, activity: SessionActivity, clock: Clock,
                 policy: SessionPolicy, log: SecurityLog) -> None:
        self._uow = uow
        self._log = log
        self._activity = activity
        self._clock = clock
        self._policy = policy

    async def execute(self, principal: Principal, session_id: UUID, client: ClientInfo | None = None) -> None:
        now = self._clock.now()
        async with self._uow() as uow:
            session = await uow.sessions.get(session_id)
            if (session is None or session.user_id != principal.user_id
                    or not session.is_active(now, self._policy)):
                raise NotFound("No such session")
            if await uow.sessions.revoke(session_id, now, RevocationReason.ENDED_BY_USER):
                await uow.security_events.add(self._log.event(principal.user_id, SecurityEventType.SESSION_ENDED,
                                                              now, client, session_id=session_id))
            await uow.commit()
        self._activity.forget([session_id])
