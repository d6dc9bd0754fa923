"""Handing recorded notifications to FastAPI's background tasks, after the response is sent."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, cast

from starlette.requests import HTTPConnection

from domain.notifications import Handoff

if TYPE_CHECKING:
    from api.container import Container

log = logging.getLogger("gatehouse.notifications")


def delivery_task(request: HTTPConnection) -> Callable[[tuple[Handoff, ...]], Awaitable[None]]:
    container = cast("Container", request.app.state.container)

    async def deliver(handoffs: tuple[Handoff, ...]) -> None:
        # Runs after the response went out: a slow or failing mail server never touches the request.
        # Anything left undelivered (even by a crash here) stays queued for the recovery sweep.
        try:
            await container.deliver_notifications().execute(handoffs)
        except Exception:
            log.exception("notification delivery task failed; the sweep will retry")

    return deliver


async def sweep_forever(container: Container, interval_seconds: float) -> None:
    """Deliver notifications left queued by a process that died, on start and then periodically."""
    while True:
        try:
            while await container.deliver_notifications().recover() > 0:
                pass
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("notification sweep failed; will try again")
        await asyncio.sleep(interval_seconds)
