from __future__ import annotations

from uuid import UUID

from application.administration import Acting, account, keep_an_admin
from application.security_log import SecurityLog
from application.unit_of_work import UnitOfWorkFactory
from domain.administration import ensure_not_self
from domain.ports import Clock, SessionActivity
from domain.security_events import SecurityEventType
from domain.session import RevocationReason


class DeleteUser:
    """An admin deletes an account, as `DELETE /users/me` does (one transaction: its sessions end, it and
    everything it owns go, `user_deleted` stays in the log); not their own (`cannot_act_on_self`), not the
    last active admin."""

    def __init__(self, uow: UnitOfWorkFactory, activity: SessionActivity, log: SecurityLog, clock: Clock) -> None:
        self._uow = uow
        self._activity = activity
        self._log = log
        self._clock = clock

    async def execute(self, acting: Acting, user_id: UUID) -> None:
        now = self._clock.now()
        async with self._uow() as uow:
            await uow.users.hold_admins()
            user = await account(uow, user_id)
            ensure_not_self(acting.admin_id, user, "delete")
            await keep_an_admin(uow, user, None)
            ended = await uow.sessions.revoke_all_of_user(user.id, now, RevocationReason.ACCOUNT_DELETED)
            await uow.security_events.add(acting.event(self._log, user.id, SecurityEventType.USER_DELETED, now))
            await uow.users.delete(user.id)
            await uow.commit()
        self._activity.forget(ended)
