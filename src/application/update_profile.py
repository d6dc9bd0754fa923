from __future__ import annotations

from application.unit_of_work import UnitOfWorkFactory
from domain.errors import InvalidToken
from domain.ports import Clock
from domain.tokens import Principal
from domain.user import User


class UpdateProfile:
    """Rename the caller's own account."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(self, principal: Principal, full_name: str | None) -> User:
        async with self._uow() as uow:
            user = await uow.users.get(principal.user_id)
            if user is None:
                raise InvalidToken("The account of this token no longer exists")
            user.rename(full_name, self._clock.now())
            await uow.users.rename(user)
            await uow.commit()
        return user
