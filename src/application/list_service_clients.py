from __future__ import annotations

from application.unit_of_work import UnitOfWorkFactory
from domain.service_clients import ServiceClient


class ListServiceClients:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def execute(self) -> list[ServiceClient]:
        async with self._uow(autocommit=True) as uow:
            return await uow.service_clients.list_all()
