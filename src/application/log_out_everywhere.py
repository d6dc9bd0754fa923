from __future__ import annotations

from application.unit_of_work import UnitOfWorkFactory
from domain.ports import Clock, SessionActivity
from domain.session import RevocationReason
from domain.tokens import Principal


class LogOutEverywhere:
    """End every session of the caller, the caller's own included."""

    def __init__(self, uow: UnitOfWorkFactory, activity: SessionActivity, clock: Clock) -> None:
        self._uow = uow
        self._activity = activity
        self._clock = clock

    async def execute(self, principal: Principal) -> None:
        async with self._uow() as uow:
            ended = await uow.sessions.revoke_all_of_user(principal.user_id, self._clock.now(),
                                                          RevocationReason.LOGOUT_ALL)
            await uow.commit()
        self._activity.forget([*ended, principal.session_id])
