from __future__ import annotations

from application.dto import ChangePasswordCommand, ClientInfo
from application.passwords import CurrentPassword, check_password_policy
from application.security_log import SecurityLog
from application.unit_of_work import UnitOfWorkFactory
from domain.errors import WrongCurrentPassword
from domain.notifications import CREDENTIALS_CHANGED_TEXT, DeliveryPolicy, Notification, NotificationKind
from domain.ports import Clock, CommonPasswords, IdGenerator, PasswordHasher, SessionActivity
from domain.security_events import SecurityEventType
from domain.session import RevocationReason
from domain.tokens import Principal


class ChangePassword:
    """Change the password; every other session of the user ends, the caller's stays; the user is told."""

    def __init__(self, uow: UnitOfWorkFactory, hasher: PasswordHasher, common: CommonPasswords,
                 current: CurrentPassword, activity: SessionActivity, clock: Clock, ids: IdGenerator,
                 delivery: DeliveryPolicy, log: SecurityLog) -> None:
        self._uow = uow
        self._log = log
        self._hasher = hasher
        self._common = common
        self._current = current
        self._activity = activity
        self._clock = clock
        self._ids = ids
        self._delivery = delivery

    async def execute(self, principal: Principal, command: ChangePasswordCommand,
                      client: ClientInfo | None = None) -> None:
        check_password_policy(command.new_password, self._common, field="new_password")
        user = await self._current.check(principal.user_id, command.current_password)
        new_hash = await self._hasher.hash(command.new_password)
        now = self._clock.now()
        notification = Notification.queue(id=self._ids.new_id(), user_id=user.id,
                                          kind=NotificationKind.PASSWORD_CHANGED,
                                          message=CREDENTIALS_CHANGED_TEXT, now=now, lease=self._delivery.lease)
        async with self._uow() as uow:
            checked_version = user.credential_version
            user.change_password_hash(new_hash, now)
            if not await uow.users.change_password(user, checked_version):
                # Changed by someone else since it was checked: the password given is no longer current.
                raise WrongCurrentPassword("The current password is wrong")
            ended = await uow.sessions.revoke_all_of_user(user.id, now, RevocationReason.PASSWORD_CHANGED,
                                                          keep=principal.session_id)
            await uow.account_tokens.void_all(user.id, now)  # reset links, and any pending change of address
            await uow.notifications.add(notification, user)
            await uow.security_events.add(self._log.event(user.id, SecurityEventType.PASSWORD_CHANGED, now, client,
                                                          session_id=principal.session_id))
            await uow.commit()
        self._activity.forget(ended)
