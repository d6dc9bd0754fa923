"""The caller's items. Another user's item is answered exactly like one that does not exist."""

from __future__ import annotations

from uuid import UUID

from application.dto import ItemPatch
from application.unit_of_work import UnitOfWorkFactory
from domain.errors import NotFound
from domain.items import Item, Page
from domain.ports import Clock, IdGenerator
from domain.tokens import Principal

_NO_ITEM = "No such item"


class CreateItem:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, ids: IdGenerator) -> None:
        self._uow = uow
        self._clock = clock
        self._ids = ids

    async def execute(self, principal: Principal, title: str, description: str | None) -> Item:
        now = self._clock.now()
        item = Item(id=self._ids.new_id(), owner_id=principal.user_id, title=title,
                    description=description, created_at=now, updated_at=now)
        async with self._uow() as uow:
            await uow.items.add(item)
            await uow.commit()
        return item


class ListItems:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def execute(self, principal: Principal, limit: int, offset: int) -> Page[Item]:
        async with self._uow(autocommit=True) as uow:
            return await uow.items.page(principal.user_id, limit, offset)


class GetItem:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def execute(self, principal: Principal, item_id: UUID) -> Item:
        async with self._uow(autocommit=True) as uow:
            item = await uow.items.get_owned(item_id, principal.user_id)
        if item is None:
            raise NotFound(_NO_ITEM)
        return item


class UpdateItem:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(self, principal: Principal, item_id: UUID, patch: ItemPatch) -> Item:
        async with self._uow() as uow:
            item = await uow.items.get_owned(item_id, principal.user_id)
            if item is None:
                raise NotFound(_NO_ITEM)
            item.edit(now=self._clock.now(), title=patch.title, description=patch.description,
                      set_description=patch.description_given)
            await uow.items.update(item)
            await uow.commit()
        return item


class DeleteItem:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def execute(self, principal: Principal, item_id: UUID) -> None:
        async with self._uow() as uow:
            if not await uow.items.delete_owned(item_id, principal.user_id):
                raise NotFound(_NO_ITEM)
            await uow.commit()
