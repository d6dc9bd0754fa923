from __future__ import annotations

from application.unit_of_work import UnitOfWorkFactory
from domain.errors import InvalidToken
from domain.tokens import Principal
from domain.user import User


class GetProfile:
    """The caller's own account, for display (may come from the account cache)."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def execute(self, principal: Principal) -> User:
        async with self._uow(autocommit=True) as uow:
            user = await uow.users.get_profile(principal.user_id)
        if user is None:
            raise InvalidToken("The account of this token no longer exists")
        return user
