from __future__ import annotations

from uuid import UUID

from application.administration import account
from application.unit_of_work import UnitOfWorkFactory
from domain.user import User


class GetUser:
    """One account as an admin sees it (NotFound for an unknown id)."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def execute(self, user_id: UUID) -> User:
        async with self._uow(autocommit=True) as uow:
            return await account(uow, user_id)
