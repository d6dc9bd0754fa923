from __future__ import annotations

from application.account_links import AccountLinks
from application.administration import Acting
from application.dto import RegisterCommand
from application.passwords import check_password_policy
from application.security_log import SecurityLog
from application.unit_of_work import UnitOfWorkFactory
from domain.errors import EmailTaken
from domain.ports import Clock, CommonPasswords, IdGenerator, PasswordHasher, RateLimiter
from domain.security_events import SecurityEventType
from domain.user import Email, User, parse_roles


class RegisterUser:
    """A new account, unverified, with a verification link mailed in the same transaction (counted against the
    address's hourly cap of verification mail: an address registered again and again is not mailed past it)."""

    def __init__(self, uow: UnitOfWorkFactory, hasher: PasswordHasher, common: CommonPasswords,
                 clock: Clock, ids: IdGenerator, links: AccountLinks, per_address: RateLimiter,
                 log: SecurityLog) -> None:
        self._uow = uow
        self._log = log
        self._links = links
        self._per_address = per_address
        self._hasher = hasher
        self._common = common
        self._clock = clock
        self._ids = ids

    async def execute(self, command: RegisterCommand, acting: Acting | None = None) -> User:
        """`acting`: the operator creating the account with roles (`gatehouse users create --role`), recorded as
        `roles_changed`; registration itself grants none."""
        email = Email.parse(command.email)
        roles = parse_roles(command.roles)
        check_password_policy(command.password, self._common)
        # Hash before opening the transaction: no connection is held during the slow part.
        password_hash = await self._hasher.hash(command.password)
        now = self._clock.now()
        user = User(id=self._ids.new_id(), email=email, password_hash=password_hash,
                    full_name=command.full_name, created_at=now, updated_at=now, roles=roles)
        async with self._uow(autocommit=True) as uow:  # a refused registration must not spend the address's cap
            if await uow.users.get_by_email(email) is not None:
                raise EmailTaken("An account with this email already exists")
        mail = await self._per_address.reserve(email.value) is None  # counted outside the transaction
        async with self._uow() as uow:
            await uow.users.add(user)  # EmailTaken on a duplicate, whoever wins a race
            if mail:
                await self._links.send_verification(uow, user, email, now)
            if roles and acting is not None:
                await uow.security_events.add(acting.event(self._log, user.id, SecurityEventType.ROLES_CHANGED, now))
            await uow.commit()
        return user
