from __future__ import annotations

from application.unit_of_work import UnitOfWorkFactory
from domain.administration import UserFilter
from domain.paging import Position, one_page
from domain.user import User


class ListUsers:
    """A page of accounts matching every filter given, oldest first; the position of the next page (None:
    the last). Keyset paging on (created_at, id): accounts created meanwhile come at the end, never twice."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def execute(self, which: UserFilter, limit: int,
                      after: Position | None) -> tuple[list[User], Position | None]:
        async with self._uow(autocommit=True) as uow:
            users = await uow.users.page(which, limit + 1, after)
        return one_page(users, limit, lambda u: Position(u.created_at, u.id))
