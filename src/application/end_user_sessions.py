from __future__ import annotations

from uuid import UUID

from application.administration import Acting, account
from application.security_log import SecurityLog
from application.unit_of_work import UnitOfWorkFactory
from domain.ports import Clock, SessionActivity
from domain.security_events import SecurityEventType
from domain.session import RevocationReason


class EndUserSessions:
    """Every session of the account ends (`sessions_ended_by_admin`); the account itself stays as it is."""

    def __init__(self, uow: UnitOfWorkFactory, activity: SessionActivity, log: SecurityLog, clock: Clock) -> None:
        self._uow = uow
        self._activity = activity
        self._log = log
        self._clock = clock

    async def execute(self, acting: Acting, user_id: UUID) -> None:
        now = self._clock.now()
        async with self._uow() as uow:
            user = await account(uow, user_id)
            ended = await uow.sessions.revoke_all_of_user(user.id, now, RevocationReason.ENDED_BY_ADMIN)
            await uow.security_events.add(acting.event(self._log, user.id, SecurityEventType.SESSIONS_ENDED_BY_ADMIN,
                                                       now))
            await uow.commit()
        self._activity.forget(ended)
