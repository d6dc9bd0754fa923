"""Delivery after the response, scheduled in one place for every route.

A use case records notifications through its unit of work; once committed, the unit of work puts
them in the `DeliveryQueue` (`RequestDeliveries` here), which keeps them with the request being
served. `DeliverAfterResponse`, an ASGI middleware around the whole application, delivers them when
the response has been sent — after a success or an error alike (a reused refresh token is answered
401 and its user is told) — just as Starlette runs a response's background tasks. A slow or failing
mail server never touches the response; whatever is not delivered (even because of a crash here)
stays queued for the recovery sweep. Notifications committed outside any request (none today) are
left to the sweep.

Why it is built this way: docs/adr/0004-outbox-and-leases.md.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Receive, Scope, Send

from application.unit_of_work import AfterResponse, DeliveryQueue, Job
from domain.notifications import Handoff

if TYPE_CHECKING:
    from api.container import Container

log = logging.getLogger("gatehouse.notifications")


class Pending:
    """What the current request leaves for after its response: jobs, and notifications to deliver."""

    __slots__ = ("handoffs", "jobs")

    def __init__(self) -> None:
        self.handoffs: list[Handoff] = []
        self.jobs: list[Job] = []

    def __bool__(self) -> bool:
        return bool(self.handoffs or self.jobs)


class RequestDeliveries(DeliveryQueue, AfterResponse):
    """Notifications committed, and jobs deferred, while serving the current request (a context variable:
    per request). Outside a request, a deferred job runs as a task of its own, and notifications are left
    to the sweep."""

    def __init__(self) -> None:
        self._current: ContextVar[Pending | None] = ContextVar("gatehouse_deliveries", default=None)
        self._detached: set[asyncio.Task[None]] = set()

    def put(self, handoffs: Sequence[Handoff]) -> None:
        pending = self._current.get()
        if pending is not None:
            pending.handoffs.extend(handoffs)

    def defer(self, job: Job) -> None:
        pending = self._current.get()
        if pending is not None:
            pending.jobs.append(job)
            return
        task = asyncio.get_running_loop().create_task(run_job(job))
        self._detached.add(task)
        task.add_done_callback(self._detached.discard)

    def begin(self) -> tuple[Pending, Token[Pending | None]]:
        """Collect for the current context (a request): what fills up, and the token for `end`."""
        pending = Pending()
        return pending, self._current.set(pending)

    def end(self, token: Token[Pending | None]) -> None:
        self._current.reset(token)


async def run_job(job: Job) -> None:
    try:
        await job()
    except Exception:
        log.exception("work deferred until after the response failed")


class DeliverAfterResponse:
    def __init__(self, app: ASGIApp, *, container: Container) -> None:
        self.app = app
        self._container = container
        self._deliveries = container.deliveries()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        pending, token = self._deliveries.begin()
        try:
            await self.app(scope, receive, send)
        finally:
            try:
                while pending.jobs:  # still collecting: what the jobs commit is delivered below
                    await run_job(pending.jobs.pop(0))
            finally:
                self._deliveries.end(token)
            if pending.handoffs:
                await self._deliver(pending.handoffs)

    async def _deliver(self, handoffs: list[Handoff]) -> None:
        try:
            await self._container.deliver_notifications().execute(handoffs)
        except Exception:
            log.exception("notification delivery after the response failed; the sweep will retry")


async def sweep_forever(container: Container, interval_seconds: float) -> None:
    """Deliver notifications left queued by a process that died, on start and then periodically; drop
    the rate-limit counters whose window is over."""
    while True:
        try:
            while await container.deliver_notifications().recover() > 0:
                pass
            await container.rate_limits().purge()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("notification sweep failed; will try again")
        await asyncio.sleep(interval_seconds)
