from __future__ import annotations

from application.administration import account, keep_an_admin
from application.dto import ClientInfo
from application.passwords import CurrentPassword
from application.security_log import SecurityLog
from application.unit_of_work import UnitOfWorkFactory
from domain.errors import CredentialsChanged, WrongCurrentPassword
from domain.ports import Clock, SessionActivity
from domain.security_events import SecurityEventType
from domain.session import RevocationReason
from domain.tokens import Principal


class DeleteAccount:
    """The user deletes their own account (the current password first, limited per user like every check
    of it): in one transaction its sessions end, the account and everything it owns go, and the event is
    recorded (security events outlive the account);
    unless it is the last active admin (`last_admin`). The address can register again at once."""

    def __init__(self, uow: UnitOfWorkFactory, current: CurrentPassword, activity: SessionActivity,
                 log: SecurityLog, clock: Clock) -> None:
        self._uow = uow
        self._current = current
        self._activity = activity
        self._log = log
        self._clock = clock

    async def execute(self, principal: Principal, current_password: str, client: ClientInfo) -> None:
        user = await self._current.check(principal.user_id, current_password)
        now = self._clock.now()
        try:
            async with self._uow() as uow:
                await uow.users.hold_admins()
                await uow.users.require_credentials(user.id, user.credential_version)
                await keep_an_admin(uow, await account(uow, user.id), None)  # read under the hold: `last_admin`
                ended = await uow.sessions.revoke_all_of_user(user.id, now, RevocationReason.ACCOUNT_DELETED)
                await uow.security_events.add(self._log.event(user.id, SecurityEventType.USER_DELETED, now, client,
                                                              session_id=principal.session_id))
                await uow.users.delete(user.id)
                await uow.commit()
        except CredentialsChanged:
            raise WrongCurrentPassword("The password changed meanwhile") from None
        self._activity.forget([*ended, principal.session_id])
