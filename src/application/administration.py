"""What the administrative use cases share: who is acting, the account acted on, the `last_admin` guard."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from application.dto import ClientInfo
from application.security_log import SecurityLog
from application.unit_of_work import UnitOfWork
from domain.administration import ensure_an_admin_remains, takes_an_admin_away
from domain.errors import NotFound
from domain.security_events import Actor, SecurityEvent, SecurityEventType
from domain.user import User


@dataclass(frozen=True, slots=True)
class Acting:
    """Who takes an administrative action: an admin through /admin (by id, from their request's client), or
    the operator with the `gatehouse` command (`SYSTEM`: no id, no client)."""

    actor: Actor
    admin_id: UUID | None = None
    client: ClientInfo | None = None

    @classmethod
    def admin(cls, admin_id: UUID, client: ClientInfo) -> Acting:
        return cls(Actor.ADMIN, admin_id, client)

    def event(self, log: SecurityLog, user_id: UUID, type: SecurityEventType, now: datetime) -> SecurityEvent:
        return log.event(user_id, type, now, self.client, actor=self.actor, actor_id=self.admin_id)


SYSTEM = Acting(Actor.SYSTEM)


async def account(uow: UnitOfWork, user_id: UUID) -> User:
    user = await uow.users.get(user_id)
    if user is None:
        raise NotFound("No user with this id")
    return user


async def keep_an_admin(uow: UnitOfWork, before: User, after: User | None) -> None:
    """Refuse a change that would leave no active admin (`last_admin`). The unit of work holds the admins
    (`uow.users.hold_admins()`, taken before `before` was read), so no concurrent change can slip between
    the count and the commit: of two admins demoting each other at once, the second is refused."""
    others = await uow.users.count_active_admins(besides=before.id) if takes_an_admin_away(before, after) else 0
    ensure_an_admin_remains(before, after, others)
