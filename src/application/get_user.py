from __future__ import annotations

from uuid import UUID

from application.accounts import account_of
from application.administration import account
from application.unit_of_work import UnitOfWorkFactory
from domain.errors import NotFound
from domain.user import User


class GetUser:
    """One account as an admin sees it (NotFound for an unknown id)."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def execute(self, user_id: UUID) -> User:
        async with self._uow(autocommit=True) as uow:
            return await account(uow, user_id)

    async def by_email(self, typed: str) -> User:
        """The account of an address as the operator typed it (the CLI), found as login finds it."""
        async with self._uow(autocommit=True) as uow:
            user = await account_of(uow, typed)
        if user is None:
            raise NotFound(f"No account has the address {typed.strip()!r}")
        return user
