from __future__ import annotations

from application.dto import ClientInfo
from application.security_log import SecurityLog
from application.unit_of_work import UnitOfWorkFactory
from domain.account_tokens import AccountTokenKind
from domain.errors import InvalidVerificationToken
from domain.notifications import DeliveryPolicy, Notification, NotificationKind, email_changed_message
from domain.ports import Clock, IdGenerator
from domain.security_events import SecurityEventType
from domain.tokens import MAX_TOKEN_LENGTH, TokenDigest
from domain.user import User


class ConfirmEmail:
    """Spend a verification link: the address it was sent to is proven. When that is not the account's
    address, it was a change of address, which takes effect now (EmailTaken if another account took the
    address meanwhile; nothing changes then) and the old address is told. Needs no session, makes none."""

    def __init__(self, uow: UnitOfWorkFactory, log: SecurityLog, clock: Clock, ids: IdGenerator,
                 delivery: DeliveryPolicy) -> None:
        self._uow = uow
        self._log = log
        self._clock = clock
        self._ids = ids
        self._delivery = delivery

    async def execute(self, token: str, client: ClientInfo) -> User:
        invalid = InvalidVerificationToken("This verification link is unknown, expired or already used; "
                                           "request a new one")
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise invalid
        now = self._clock.now()
        async with self._uow() as uow:
            spent = await uow.account_tokens.spend(TokenDigest.of(token), AccountTokenKind.EMAIL_VERIFICATION, now)
            user = await uow.users.get(spent.user_id) if spent is not None else None
            if spent is None or user is None:
                raise invalid
            if spent.email == user.email:
                await uow.users.mark_verified(user.id, user.email)
                user.email_verified = True
                await uow.security_events.add(self._log.event(user.id, SecurityEventType.EMAIL_VERIFIED, now, client))
            else:
                old_email, old_verified = user.email, user.email_verified
                user.change_email(spent.email, now)
                await uow.users.change_email(user)  # EmailTaken: rolled back, the link stays unspent
                # A reset link went to the old address: it no longer recovers this account.
                await uow.account_tokens.void(user.id, AccountTokenKind.PASSWORD_RESET, now)
                await uow.security_events.add(self._log.event(user.id, SecurityEventType.EMAIL_CHANGED, now, client))
                await uow.notifications.add(Notification.queue(
                    id=self._ids.new_id(), user_id=user.id, kind=NotificationKind.EMAIL_CHANGED,
                    message=email_changed_message(user.email), now=now, lease=self._delivery.lease,
                    recipient=old_email, recipient_verified=old_verified), user)
            await uow.commit()
        return user
