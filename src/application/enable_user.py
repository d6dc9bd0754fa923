from __future__ import annotations

from uuid import UUID

from application.administration import Acting, account
from application.security_log import SecurityLog
from application.unit_of_work import UnitOfWorkFactory
from domain.ports import Clock
from domain.security_events import SecurityEventType
from domain.user import User


class EnableUser:
    """The account may log in again (`user_enabled`); no session it had comes back."""

    def __init__(self, uow: UnitOfWorkFactory, log: SecurityLog, clock: Clock) -> None:
        self._uow = uow
        self._log = log
        self._clock = clock

    async def execute(self, acting: Acting, user_id: UUID) -> User:
        now = self._clock.now()
        async with self._uow() as uow:
            user = await account(uow, user_id)
            if user.is_active:
                return user
            user.enable(now)
            await uow.users.set_status(user)
            await uow.security_events.add(acting.event(self._log, user.id, SecurityEventType.USER_ENABLED, now))
            await uow.commit()
        return user
