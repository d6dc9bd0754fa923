from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from domain.ports import Clock, ExpiredRecords
from domain.retention import Purgeable, RetentionPolicy

log = logging.getLogger("gatehouse.retention")


@dataclass(frozen=True, slots=True)
class PurgeReport:
    deleted: dict[Purgeable, int] = field(default_factory=dict)
    yielded: bool = False  # another worker was purging, so this run stopped where it was


class PurgeExpiredRecords:
    """One retention run: for each kind of record, in order, batched deletes of what its period lets go of
    until a batch comes back short. Each batch is its own short transaction, with a pause between batches,
    so no lock is held for long and requests keep their share of the database. Only one worker purges at a
    time: one that finds another purging stops."""

    def __init__(self, records: ExpiredRecords, clock: Clock, policy: RetentionPolicy,
                 pause_seconds: float = 0.01) -> None:
        self._records = records
        self._clock = clock
        self._policy = policy
        self._pause = pause_seconds

    async def execute(self) -> PurgeReport:
        deleted: dict[Purgeable, int] = {}
        batch = self._policy.batch_size
        for what, before in self._policy.cutoffs(self._clock.now()):
            deleted[what] = 0
            while True:
                count = await self._records.purge(what, before, batch)
                if count is None:
                    return PurgeReport(deleted, yielded=True)
                deleted[what] += count
                if count < batch:
                    break
                await asyncio.sleep(self._pause)
        if any(deleted.values()):
            log.info("retention: deleted %s", ", ".join(f"{n} {what.value}" for what, n in deleted.items() if n))
        return PurgeReport(deleted)
