from __future__ import annotations

import dataclasses
from uuid import UUID

from application.administration import Acting, account, keep_an_admin
from application.security_log import SecurityLog
from application.unit_of_work import UnitOfWorkFactory
from domain.administration import ensure_not_self
from domain.notifications import DISABLED_MESSAGE, DeliveryPolicy, Notification, NotificationKind
from domain.ports import Clock, IdGenerator, SessionActivity
from domain.security_events import SecurityEventType
from domain.session import RevocationReason
from domain.user import User


class DisableUser:
    """In one transaction: the account is disabled, every session of it ends (refresh refused at once; access
    tokens within the session check's second), its outstanding links are void, the user is told
    (`account_disabled`) and `user_disabled` recorded. Login then refuses the correct password with
    `account_disabled`. Not one's own account (`cannot_act_on_self`), not the last active admin."""

    def __init__(self, uow: UnitOfWorkFactory, activity: SessionActivity, log: SecurityLog, clock: Clock,
                 ids: IdGenerator, delivery: DeliveryPolicy) -> None:
        self._uow = uow
        self._activity = activity
        self._log = log
        self._clock = clock
        self._ids = ids
        self._delivery = delivery

    async def execute(self, acting: Acting, user_id: UUID, reason: str | None) -> User:
        now = self._clock.now()
        async with self._uow() as uow:
            await uow.users.hold_admins()
            user = await account(uow, user_id)
            ensure_not_self(acting.admin_id, user, "disable")
            if not user.is_active:  # disabled already: the reason may change (recorded), nothing else happens
                if reason is not None and reason != user.disabled_reason:
                    user.disable(reason, now)
                    await uow.users.set_status(user)
                    await uow.security_events.add(acting.event(self._log, user.id, SecurityEventType.USER_DISABLED,
                                                               now))
                    await uow.commit()
                return user
            before = dataclasses.replace(user)
            user.disable(reason, now)
            await keep_an_admin(uow, before, user)
            await uow.users.set_status(user)  # first: a login holding the old state is waited for, then ended
            ended = await uow.sessions.revoke_all_of_user(user.id, now, RevocationReason.ACCOUNT_DISABLED)
            await uow.account_tokens.void_all(user.id, now)
            await uow.notifications.add(Notification.queue(
                id=self._ids.new_id(), user_id=user.id, kind=NotificationKind.ACCOUNT_DISABLED,
                message=DISABLED_MESSAGE, now=now, lease=self._delivery.lease), user)
            await uow.security_events.add(acting.event(self._log, user.id, SecurityEventType.USER_DISABLED, now))
            await uow.commit()
        self._activity.forget(ended)
        return user
