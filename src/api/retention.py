"""The retention job in the service: every worker runs the loop; the database lets one purge at a time."""

from __future__ import annotations

import asyncio
import logging
import random
from typing import TYPE_CHECKING

from domain.errors import StorageUnavailable

if TYPE_CHECKING:
    from api.container import Container

log = logging.getLogger("gatehouse.retention")


async def purge_forever(container: Container, interval_seconds: float) -> None:
    """A run soon after start (within a minute, at a random moment, so that workers started together do not
    all ask at once), then one every interval; none with an interval of 0 (`gatehouse purge` from cron, say).
    A failed run is logged and the next one tries again."""
    if interval_seconds <= 0:
        return
    await asyncio.sleep(random.uniform(0.5, 1.0) * min(60.0, interval_seconds))  # noqa: S311 - not a secret
    while True:
        try:
            await container.purge_expired_records().execute()
        except asyncio.CancelledError:
            raise
        except StorageUnavailable as exc:
            log.warning("retention run skipped: %s", exc.detail)
        except Exception:
            log.exception("retention run failed; will try again")
        await asyncio.sleep(interval_seconds)
