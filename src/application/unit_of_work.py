"""The transaction boundary every use case goes through."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Protocol, Self

from domain.ports import ItemRepository, NotificationRepository, SessionRepository, UserRepository


class UnitOfWork(Protocol):
    """One transaction. Nothing is written unless `commit` is called; leaving the block rolls back."""

    users: UserRepository
    sessions: SessionRepository
    items: ItemRepository
    notifications: NotificationRepository

    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...
    async def commit(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
