from __future__ import annotations

from uuid import UUID

from application.account_links import AccountLinks
from application.administration import Acting, account
from application.security_log import SecurityLog
from application.unit_of_work import UnitOfWorkFactory
from domain.ports import Clock
from domain.security_events import SecurityEventType


class SendPasswordReset:
    """An admin starts a reset: the user gets a reset mail (the link voids earlier ones), and chooses the new
    password themselves; no admin ever sets, sees or chooses one. Not capped as a user's own requests are
    (an admin acts deliberately, and is recorded: `password_reset_requested` with the admin as actor)."""

    def __init__(self, uow: UnitOfWorkFactory, links: AccountLinks, log: SecurityLog, clock: Clock) -> None:
        self._uow = uow
        self._links = links
        self._log = log
        self._clock = clock

    async def execute(self, acting: Acting, user_id: UUID) -> None:
        now = self._clock.now()
        async with self._uow() as uow:
            user = await account(uow, user_id)
            await self._links.send_reset(uow, user, now, by_admin=True)
            await uow.security_events.add(acting.event(self._log, user.id, SecurityEventType.PASSWORD_RESET_REQUESTED,
                                                       now))
            await uow.commit()
