from __future__ import annotations

import uuid
from datetime import UTC, datetime

from domain.ports import Clock, IdGenerator


class SystemClock(Clock):
    def now(self) -> datetime:
        return datetime.now(UTC)


class Uuid4Generator(IdGenerator):
    def new_id(self) -> uuid.UUID:
        return uuid.uuid4()
