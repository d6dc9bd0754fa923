from __future__ import annotations

from application.account_links import AccountLinks
from application.dto import ClientInfo
from application.passwords import CurrentPassword
from application.security_log import SecurityLog
from application.unit_of_work import UnitOfWorkFactory
from domain.errors import EmailTaken, InvalidEmail
from domain.notifications import DeliveryPolicy, Notification, NotificationKind, change_requested_message
from domain.ports import Clock, IdGenerator, RateLimiter
from domain.security_events import SecurityEventType
from domain.tokens import Principal
from domain.user import Email


class ChangeEmail:
    """Ask to move the account to another address (the current password first, limited per user like every
    check of it): a link goes to the new address, a notice to the current one; nothing changes until the
    link is confirmed (ConfirmEmail). The new address gets at most so many links per hour."""

    def __init__(self, uow: UnitOfWorkFactory, current: CurrentPassword, per_address: RateLimiter,
                 links: AccountLinks, log: SecurityLog, clock: Clock, ids: IdGenerator,
                 delivery: DeliveryPolicy) -> None:
        self._uow = uow
        self._current = current
        self._per_address = per_address
        self._links = links
        self._log = log
        self._clock = clock
        self._ids = ids
        self._delivery = delivery

    async def execute(self, principal: Principal, new_email: str, current_password: str, client: ClientInfo) -> None:
        new = Email.parse(new_email)
        user = await self._current.check(principal.user_id, current_password)
        if new == user.email:
            raise InvalidEmail("new_email is the account's address already", field="new_email")
        async with self._uow(autocommit=True) as uow:
            if await uow.users.get_by_email(new) is not None:
                raise EmailTaken("An account with this email already exists")
        # Capped per new address and per account (so one account cannot mail any number of addresses):
        # beyond either, the same answer and nothing sent.
        if (await self._per_address.reserve(f"account|{user.id}") is not None
                or await self._per_address.reserve(new.value) is not None):
            return
        now = self._clock.now()
        async with self._uow() as uow:
            await uow.users.require_credentials(user.id, user.credential_version)
            await self._links.send_verification(uow, user, new, now)
            await uow.notifications.add(Notification.queue(
                id=self._ids.new_id(), user_id=user.id, kind=NotificationKind.EMAIL_CHANGE_REQUESTED,
                message=change_requested_message(new), now=now, lease=self._delivery.lease,
                recipient=user.email, recipient_verified=user.email_verified), user)  # the old address, always
            await uow.security_events.add(self._log.event(user.id, SecurityEventType.EMAIL_CHANGE_REQUESTED, now,
                                                          client, session_id=principal.session_id))
            await uow.commit()
