from __future__ import annotations

from application.unit_of_work import UnitOfWorkFactory
from domain.paging import Position
from domain.security_events import SecurityEvent
from domain.tokens import Principal


class ListSecurityEvents:
    """A page of the caller's security log, newest first; the cursor of the next page (None: the last)."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def execute(self, principal: Principal, limit: int,
                      after: Position | None) -> tuple[list[SecurityEvent], Position | None]:
        async with self._uow(autocommit=True) as uow:
            events = await uow.security_events.page(principal.user_id, limit + 1, after)
        if len(events) <= limit:
            return events, None
        last = events[limit - 1]
        return events[:limit], Position(last.at, last.id)
