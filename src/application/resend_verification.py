from __future__ import annotations

from application.account_links import AccountLinks
from application.unit_of_work import UnitOfWorkFactory
from domain.errors import AlreadyVerified, InvalidToken
from domain.ports import Clock, RateLimiter
from domain.tokens import Principal


class ResendVerification:
    """A new verification link for the caller's address (its earlier ones void); at most so many per address
    and hour: beyond, the answer is the same and nothing is sent or voided."""

    def __init__(self, uow: UnitOfWorkFactory, links: AccountLinks, per_address: RateLimiter, clock: Clock) -> None:
        self._uow = uow
        self._links = links
        self._per_address = per_address
        self._clock = clock

    async def execute(self, principal: Principal) -> None:
        async with self._uow(autocommit=True) as uow:
            user = await uow.users.get(principal.user_id)
        if user is None:
            raise InvalidToken("The account of this token no longer exists")
        if user.email_verified:
            raise AlreadyVerified("This address is verified already")
        if await self._per_address.reserve(user.email.value) is not None:
            return
        async with self._uow() as uow:
            await self._links.send_verification(uow, user, user.email, self._clock.now())
            await uow.commit()
