from __future__ import annotations

from application.dto import ClientInfo
from application.passwords import limited_attempt
from application.security_log import SecurityLog
from application.unit_of_work import UnitOfWorkFactory
from domain.errors import CredentialsChanged, InvalidToken, WrongCurrentPassword
from domain.ports import Clock, PasswordHasher, RateLimiter, SessionActivity
from domain.security_events import SecurityEventType
from domain.session import RevocationReason
from domain.tokens import Principal
from domain.user import User


class DeleteAccount:
    """The user deletes their own account (the current password first, limited per user like every check
    of it): in one transaction its sessions end, the account and everything it owns go, and the event is
    recorded (security events outlive the account). The address can register again at once."""

    def __init__(self, uow: UnitOfWorkFactory, hasher: PasswordHasher, limiter: RateLimiter,
                 activity: SessionActivity, log: SecurityLog, clock: Clock) -> None:
        self._uow = uow
        self._hasher = hasher
        self._limiter = limiter
        self._activity = activity
        self._log = log
        self._clock = clock

    async def execute(self, principal: Principal, current_password: str, client: ClientInfo) -> None:
        async with self._uow(autocommit=True) as uow:
            user = await uow.users.get(principal.user_id)
        if user is None:
            raise InvalidToken("The account of this token no longer exists")
        if await limited_attempt(self._limiter, str(user.id), lambda: self._matches(user, current_password)) is None:
            raise WrongCurrentPassword("The current password is wrong")
        now = self._clock.now()
        try:
            async with self._uow() as uow:
                await uow.users.require_credentials(user.id, user.credential_version)
                ended = await uow.sessions.revoke_all_of_user(user.id, now, RevocationReason.ACCOUNT_DELETED)
                await uow.security_events.add(self._log.event(user.id, SecurityEventType.USER_DELETED, now, client,
                                                              session_id=principal.session_id))
                await uow.users.delete(user.id)
                await uow.commit()
        except CredentialsChanged:
            raise WrongCurrentPassword("The password changed meanwhile") from None
        self._activity.forget([*ended, principal.session_id])

    async def _matches(self, user: User, password: str) -> User | None:
        return user if await self._hasher.verify(user.password_hash, password) else None
