from __future__ import annotations

from application.unit_of_work import UnitOfWorkFactory
from domain.notifications import Notification
from domain.tokens import Principal


class ListNotifications:
    """The caller's notifications, newest first."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def execute(self, principal: Principal) -> list[Notification]:
        async with self._uow(autocommit=True) as uow:
            return await uow.notifications.list_for_user(principal.user_id)
