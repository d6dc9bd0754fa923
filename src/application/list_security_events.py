from __future__ import annotations

from application.unit_of_work import UnitOfWorkFactory
from domain.paging import Position, one_page
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
        return one_page([e.as_seen_by_its_user() for e in events], limit, lambda e: Position(e.at, e.id))
