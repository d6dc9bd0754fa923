from __future__ import annotations

from application.dto import ClientInfo
from application.security_log import SecurityLog
from application.unit_of_work import UnitOfWorkFactory
from domain.ports import Clock, SessionActivity
from domain.security_events import SecurityEventType
from domain.session import RevocationReason
from domain.tokens import Principal


class LogOutEverywhere:
    """End every session of the caller, the caller's own included."""

    def __init__(self, uow: UnitOfWorkFactory, activity: SessionActivity, clock: Clock, log: SecurityLog) -> None:
        self._uow = uow
        self._log = log
        self._activity = activity
        self._clock = clock

    async def execute(self, principal: Principal, client: ClientInfo | None = None) -> None:
        now = self._clock.now()
        async with self._uow() as uow:
            ended = await uow.sessions.revoke_all_of_user(principal.user_id, now, RevocationReason.LOGOUT_ALL)
            await uow.security_events.add(self._log.event(principal.user_id, SecurityEventType.LOGOUT_ALL, now,
                                                          client, session_id=principal.session_id))
            await uow.commit()
        self._activity.forget([*ended, principal.session_id])
