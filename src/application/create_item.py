from __future__ import annotations

from application.unit_of_work import UnitOfWorkFactory
from domain.items import Item
from domain.ports import Clock, IdGenerator
from domain.tokens import Principal


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
