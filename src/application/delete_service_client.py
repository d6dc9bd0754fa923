from __future__ import annotations

from application.unit_of_work import UnitOfWorkFactory
from domain.errors import NotFound


class DeleteServiceClient:
    """The client can no longer introspect: refused within a second on every worker (ServiceClientLookup)."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def execute(self, client_id: str) -> None:
        async with self._uow(autocommit=True) as uow:
            if not await uow.service_clients.delete(client_id):
                raise NotFound(f"No service client has the id {client_id!r}")
