from __future__ import annotations

from uuid import UUID

from application.dto import ItemChanges
from application.unit_of_work import UnitOfWorkFactory
from domain.errors import NotFound
from domain.items import NO_SUCH_ITEM, Item
from domain.ports import Clock
from domain.tokens import Principal


class UpdateItem:
    """Change the fields given of one of the caller's items (another user's: as if it did not exist)."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(self, principal: Principal, item_id: UUID, changes: ItemChanges) -> Item:
        async with self._uow() as uow:
            item = await uow.items.get_owned(item_id, principal.user_id)
            if item is None:
                raise NotFound(NO_SUCH_ITEM)
            item.edit(now=self._clock.now(), title=changes.title, description=changes.description,
                      set_description=changes.description_given)
            await uow.items.update(item)
            await uow.commit()
        return item
