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
        digest = TokenDigest.of(token)
        now = self._clock.now()
        async with self._uow(autocommit=True) as uow:
            found = await uow.account_tokens.find_usable(digest, AccountTokenKind.EMAIL_VERIFICATION, now)
            user = await uow.users.get(found.user_id) if found is not None else None
        if found is None or user is None:
            raise invalid
        async with self._uow() as uow:
            # The account's row first, then the token (the order of every writer of both; see ResetPassword).
            if found.email == user.email:
                await uow.users.mark_verified(user.id, user.email)
                user.email_verified = True
                event = SecurityEventType.EMAIL_VERIFIED
            else:
                old_email, old_verified = user.email, user.email_verified
                user.change_email(found.email, now)
                await uow.users.change_email(user)  # EmailTaken: rolled back, the link stays unspent
                event = SecurityEventType.EMAIL_CHANGED
            spent = await uow.account_tokens.spend(digest, AccountTokenKind.EMAIL_VERIFICATION, now)
            if spent is None:  # spent or voided meanwhile: nothing of the above stays
                raise invalid
            if event is SecurityEventType.EMAIL_CHANGED:
                # A reset link went to the old address: it no longer recovers this account.
                await uow.account_tokens.void(user.id, AccountTokenKind.PASSWORD_RESET, now)
                await uow.notifications.add(Notification.queue(
                    id=self._ids.new_id(), user_id=user.id, kind=NotificationKind.EMAIL_CHANGED,
                    message=email_changed_message(user.email), now=now, lease=self._delivery.lease,
                    recipient=old_email, recipient_verified=old_verified), user)
            await uow.security_events.add(self._log.event(user.id, event, now, client))
            await uow.commit()
        return user
