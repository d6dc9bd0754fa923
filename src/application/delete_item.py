from __future__ import annotations

from uuid import UUID

from application.unit_of_work import UnitOfWorkFactory
from domain.errors import NotFound
from domain.items import NO_SUCH_ITEM
from domain.tokens import Principal


class DeleteItem:
    """Delete one of the caller's items (another user's: as if it did not exist)."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def execute(self, principal: Principal, item_id: UUID) -> None:
        async with self._uow() as uow:
            if not await uow.items.delete_owned(item_id, principal.user_id):
                raise NotFound(NO_SUCH_ITEM)
            await uow.commit()
