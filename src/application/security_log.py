"""Building the security log's entries: one place that knows what an entry takes from a request."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from application.dto import ClientInfo
from domain.ports import IdGenerator
from domain.security_events import Actor, SecurityEvent, SecurityEventType


class SecurityLog:
    def __init__(self, ids: IdGenerator) -> None:
        self._ids = ids

    def event(self, user_id: UUID, type: SecurityEventType, now: datetime, client: ClientInfo | None = None, *,
              session_id: UUID | None = None, actor: Actor = Actor.USER,
              actor_id: UUID | None = None) -> SecurityEvent:
        return SecurityEvent(id=self._ids.new_id(), user_id=user_id, type=type, at=now, actor=actor,
                             actor_id=actor_id, ip=client.ip if client else None,
                             user_agent=client.user_agent if client else None, session_id=session_id)
