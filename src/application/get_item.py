from __future__ import annotations

from uuid import UUID

from application.unit_of_work import UnitOfWorkFactory
from domain.errors import NotFound
from domain.items import NO_SUCH_ITEM, Item
from domain.tokens import Principal


class GetItem:
    """One of the caller's items. Another user's item is answered exactly like one that does not exist."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def execute(self, principal: Principal, item_id: UUID) -> Item:
        async with self._uow(autocommit=True) as uow:
            item = await uow.items.get_owned(item_id, principal.user_id)
        if item is None:
            raise NotFound(NO_SUCH_ITEM)
        return item
