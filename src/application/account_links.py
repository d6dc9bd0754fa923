"""Issuing the one-time links of reset and verification mail: the token, its stored digest, and the mail
that carries it (sealed in the outbox), in the caller's unit of work."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from application.unit_of_work import UnitOfWork
from domain.account_tokens import AccountToken, AccountTokenKind, RecoveryPolicy
from domain.notifications import (
    DeliveryPolicy,
    Notification,
    NotificationKind,
    reset_message,
    verification_message,
)
from domain.ports import IdGenerator, LinkSealer, SecretTokens
from domain.user import Email, User


@dataclass(frozen=True, slots=True)
class LinkTargets:
    """Where the links point: Gatehouse's own pages by default, or the operator's app (`#token=` appended)."""

    password_reset: str
    email_verification: str

    def link(self, kind: AccountTokenKind, token: str) -> str:
        base = self.password_reset if kind is AccountTokenKind.PASSWORD_RESET else self.email_verification
        return f"{base}#token={token}"


class AccountLinks:
    def __init__(self, tokens: SecretTokens, sealer: LinkSealer, targets: LinkTargets, ids: IdGenerator,
                 policy: RecoveryPolicy, delivery: DeliveryPolicy) -> None:
        self._tokens = tokens
        self._sealer = sealer
        self._targets = targets
        self._ids = ids
        self._policy = policy
        self._delivery = delivery

    async def send_reset(self, uow: UnitOfWork, user: User, now: datetime, by_admin: bool = False) -> None:
        """A new reset link to the account's address; the user's earlier reset links are void."""
        token = await self._issue(uow, user, AccountTokenKind.PASSWORD_RESET, user.email, now)
        await self._mail(uow, user, reset_message(token.expires_at, by_admin), token, now, recipient=user.email)

    async def send_verification(self, uow: UnitOfWork, user: User, email: Email, now: datetime) -> None:
        """A new verification link for `email` (the account's address, or the one it is changing to); the
        user's earlier verification links are void."""
        token = await self._issue(uow, user, AccountTokenKind.EMAIL_VERIFICATION, email, now)
        change = email != user.email
        await self._mail(uow, user, verification_message(email, token.expires_at, change), token, now,
                         recipient=email)

    async def _issue(self, uow: UnitOfWork, user: User, kind: AccountTokenKind, email: Email,
                     now: datetime) -> _Issued:
        secret = self._tokens.new_token()
        token = AccountToken.issue(token=secret, user_id=user.id, kind=kind, email=email, now=now,
                                   policy=self._policy)
        await uow.account_tokens.replace(token)
        return _Issued(kind, secret, token.expires_at)

    async def _mail(self, uow: UnitOfWork, user: User, message: str, issued: _Issued, now: datetime,
                    recipient: Email) -> None:
        """The mail of the link, of the notification kind named as the token kind is. Addressed when it is
        recorded, never looked up at delivery: a retry after a change of address still goes where the link
        was meant to go."""
        link = self._targets.link(issued.kind, issued.secret)
        notification = Notification.queue(id=self._ids.new_id(), user_id=user.id,
                                          kind=NotificationKind(issued.kind.value), message=message,
                                          now=now, lease=self._delivery.lease, recipient=recipient,
                                          recipient_verified=recipient == user.email and user.email_verified,
                                          sealed_link=self._sealer.seal(link))
        await uow.notifications.add(notification, user)


@dataclass(frozen=True, slots=True)
class _Issued:
    kind: AccountTokenKind
    secret: str
    expires_at: datetime
