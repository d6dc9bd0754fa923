"""The transaction boundary every use case goes through."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import Protocol, Self

from domain.notifications import Handoff
from domain.ports import (
    AccountTokenRepository,
    ItemRepository,
    NotificationRepository,
    SecurityEventRepository,
    ServiceClientRepository,
    SessionRepository,
    UserRepository,
)


class UnitOfWork(Protocol):
    """One transaction. Nothing is written unless `commit` is called; leaving the block rolls back.

    Opened with `autocommit=True` it is no transaction at all: each statement stands alone (no
    BEGIN/COMMIT round trips). Use cases ask for that only where every step is a single statement
    that is safe on its own: reads, the one-statement refresh-token rotation, delivery bookkeeping.

    Notifications added through it are handed to the `DeliveryQueue` once committed: a use case
    records a notification and is done; delivery after the response is scheduled in one place.
    """

    @property
    def users(self) -> UserRepository: ...
    @property
    def sessions(self) -> SessionRepository: ...
    @property
    def items(self) -> ItemRepository: ...
    @property
    def notifications(self) -> NotificationRepository: ...
    @property
    def account_tokens(self) -> AccountTokenRepository: ...
    @property
    def security_events(self) -> SecurityEventRepository: ...
    @property
    def service_clients(self) -> ServiceClientRepository: ...

    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...
    async def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, *, autocommit: bool = False) -> UnitOfWork: ...


class DeliveryQueue(Protocol):
    """Takes the notifications a unit of work has just committed, to be delivered after the response."""

    def put(self, handoffs: Sequence[Handoff]) -> None: ...


Job = Callable[[], Awaitable[None]]


class AfterResponse(Protocol):
    """Runs work once the response has been sent (what must not change the answer or its timing: the
    lookup behind a reset request, the record of a failed login). A job's failure is logged, never raised."""

    def defer(self, job: Job) -> None: ...
