from __future__ import annotations

import dataclasses
import enum
from uuid import UUID

from application.administration import Acting, account, keep_an_admin
from application.security_log import SecurityLog
from application.unit_of_work import UnitOfWorkFactory
from domain.ports import Clock
from domain.security_events import SecurityEventType
from domain.user import User, parse_roles


class Keep(enum.Enum):
    """A field not sent: it stays as it is."""

    KEEP = "keep"


KEEP = Keep.KEEP


class UpdateUser:
    """An admin (or the CLI) changes an account's full name and/or roles; a change of roles is recorded as
    `roles_changed` and may not take the last active admin's role away. New roles reach access tokens at
    the next refresh, and /admin at once (RequireAdmin reads the store)."""

    def __init__(self, uow: UnitOfWorkFactory, log: SecurityLog, clock: Clock) -> None:
        self._uow = uow
        self._log = log
        self._clock = clock

    async def execute(self, acting: Acting, user_id: UUID, *, full_name: str | Keep | None = KEEP,
                      roles: tuple[str, ...] | None = None) -> User:
        wanted = parse_roles(roles) if roles is not None else None
        now = self._clock.now()
        async with self._uow() as uow:
            if wanted is not None:
                await uow.users.hold_admins()
            user = await account(uow, user_id)
            if not isinstance(full_name, Keep) and full_name != user.full_name:
                user.rename(full_name, now)
                await uow.users.rename(user)
            if wanted is not None and wanted != user.roles:
                before = dataclasses.replace(user)
                user.set_roles(wanted, now)
                await keep_an_admin(uow, before, user)
                await uow.users.set_roles(user)
                await uow.security_events.add(acting.event(self._log, user.id, SecurityEventType.ROLES_CHANGED, now))
            await uow.commit()
        return user
