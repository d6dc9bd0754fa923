from __future__ import annotations

from application.dto import ClientInfo
from application.passwords import check_password_policy
from application.security_log import SecurityLog
from application.unit_of_work import UnitOfWorkFactory
from domain.account_tokens import AccountTokenKind
from domain.errors import InvalidResetToken
from domain.notifications import RESET_COMPLETED_TEXT, DeliveryPolicy, Notification, NotificationKind
from domain.ports import Clock, CommonPasswords, IdGenerator, PasswordHasher, SessionActivity
from domain.security_events import SecurityEventType
from domain.session import RevocationReason
from domain.tokens import MAX_TOKEN_LENGTH, TokenDigest


class ResetPassword:
    """Confirm a reset: in one transaction the token is spent, the password set, every session ended, the
    other reset links voided, the address marked proven (the link reached it), the event recorded and the
    user told. Of concurrent confirms with one token, the one whose spend matches wins; the others change
    nothing."""

    def __init__(self, uow: UnitOfWorkFactory, hasher: PasswordHasher, common: CommonPasswords,
                 activity: SessionActivity, log: SecurityLog, clock: Clock, ids: IdGenerator,
                 delivery: DeliveryPolicy) -> None:
        self._uow = uow
        self._hasher = hasher
        self._common = common
        self._activity = activity
        self._log = log
        self._clock = clock
        self._ids = ids
        self._delivery = delivery

    async def execute(self, token: str, new_password: str, client: ClientInfo) -> None:
        check_password_policy(new_password, self._common, field="new_password")
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise InvalidResetToken("This reset link is unknown, expired or already used; request a new one")
        digest = TokenDigest.of(token)
        async with self._uow(autocommit=True) as uow:  # no Argon2 work for a link that cannot be spent
            found = await uow.account_tokens.find_usable(digest, AccountTokenKind.PASSWORD_RESET,
                                                         self._clock.now())
        if found is None:
            raise InvalidResetToken("This reset link is unknown, expired or already used; request a new one")
        new_hash = await self._hasher.hash(new_password)
        now = self._clock.now()
        async with self._uow(autocommit=True) as uow:
            user = await uow.users.get(found.user_id)
        if user is None:
            raise InvalidResetToken("This reset link is unknown, expired or already used; request a new one")
        async with self._uow() as uow:
            # The account's row first, then its tokens: the order of every other writer of both (a password
            # change, a change of address), so two of them never wait on each other in a cycle.
            checked_version = user.credential_version
            user.change_password_hash(new_hash, now)
            if not await uow.users.change_password(user, checked_version):
                raise InvalidResetToken("The password changed meanwhile; request a new reset link")
            spent = await uow.account_tokens.spend(digest, AccountTokenKind.PASSWORD_RESET, now)
            if spent is None or spent.user_id != user.id:  # another confirm won: roll the password back
                raise InvalidResetToken("This reset link is unknown, expired or already used; request a new one")
            await uow.account_tokens.void_all(user.id, now)
            if await uow.users.mark_verified(user.id, spent.email):
                user.email_verified = True
            ended = await uow.sessions.revoke_all_of_user(user.id, now, RevocationReason.PASSWORD_RESET)
            await uow.security_events.add(self._log.event(user.id, SecurityEventType.PASSWORD_RESET_COMPLETED,
                                                          now, client))
            await uow.notifications.add(Notification.queue(
                id=self._ids.new_id(), user_id=user.id, kind=NotificationKind.PASSWORD_CHANGED,
                message=RESET_COMPLETED_TEXT, now=now, lease=self._delivery.lease,
                recipient=user.email, recipient_verified=user.email_verified), user)
            await uow.commit()
        self._activity.forget(ended)
