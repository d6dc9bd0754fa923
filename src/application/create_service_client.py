from __future__ import annotations

from application.unit_of_work import UnitOfWorkFactory
from domain.ports import Clock, IdGenerator, SecretTokens
from domain.service_clients import ServiceClient, check_client_name
from domain.tokens import TokenDigest


class CreateServiceClient:
    """A new service client (the operator's `gatehouse clients create NAME`): a random id and a 256-bit secret,
    of which only the digest is stored. The secret is returned here, once, and never again."""

    def __init__(self, uow: UnitOfWorkFactory, secrets: SecretTokens, ids: IdGenerator, clock: Clock) -> None:
        self._uow = uow
        self._secrets = secrets
        self._ids = ids
        self._clock = clock

    async def execute(self, name: str) -> tuple[ServiceClient, str]:
        secret = self._secrets.new_token()
        client = ServiceClient(client_id=self._ids.new_id().hex, name=check_client_name(name),
                               secret=TokenDigest.of(secret), created_at=self._clock.now())
        async with self._uow() as uow:
            await uow.service_clients.add(client)  # ClientNameTaken
            await uow.commit()
        return client, secret
