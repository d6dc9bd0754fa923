from __future__ import annotations

from application.unit_of_work import UnitOfWorkFactory
from domain.administration import EventFilter
from domain.paging import Position, one_page
from domain.security_events import SecurityEvent


class SearchSecurityEvents:
    """A page of everyone's security log matching the filters, newest first (the admin view)."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def execute(self, which: EventFilter, limit: int,
                      after: Position | None) -> tuple[list[SecurityEvent], Position | None]:
        async with self._uow(autocommit=True) as uow:
            events = await uow.security_events.page_all(which, limit + 1, after)
        return one_page(events, limit, lambda e: Position(e.at, e.id))
