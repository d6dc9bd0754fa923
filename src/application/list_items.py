from __future__ import annotations

from application.unit_of_work import UnitOfWorkFactory
from domain.items import Item, Page
from domain.tokens import Principal


class ListItems:
    """The caller's items, newest first, a page at a time."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def execute(self, principal: Principal, limit: int, offset: int) -> Page[Item]:
        async with self._uow(autocommit=True) as uow:
            return await uow.items.page(principal.user_id, limit, offset)
