from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from application.unit_of_work import UnitOfWorkFactory
from domain.notifications import DeliveryPolicy, Handoff, Notification, Recipient
from domain.observations import NO_METRICS, DeliveryOutcome
from domain.ports import Clock, LinkSealer, Metrics, Notifier

log = logging.getLogger("gatehouse.notifications")
MAX_ERROR_LENGTH = 500


class DeliverNotifications:
    """Deliver recorded notifications: claim, send, mark; bounded retries with backoff.

    The claim is an atomic conditional update with a lease, so with several workers (or a
    background task racing the recovery sweep) each notification is sent by one claimer only.
    """

    def __init__(self, uow: UnitOfWorkFactory, notifier: Notifier, sealer: LinkSealer, clock: Clock,
                 policy: DeliveryPolicy, metrics: Metrics = NO_METRICS) -> None:
        self._uow = uow
        self._metrics = metrics
        self._notifier = notifier
        self._sealer = sealer
        self._clock = clock
        self._policy = policy

    async def execute(self, handoffs: Sequence[Handoff]) -> None:
        """Deliver notifications just recorded and claimed by their creator (Notification.queue with a
        lease): no claim round trip, and no recipient lookup when the creator knew the address. A
        handoff that arrives late (its lease partly used up) renews its creator's claim first, and one
        that was never claimed is claimed: if someone else has taken or delivered it meanwhile, it is
        left to them, so it is never sent twice."""
        for handoff in handoffs:
            notification = handoff.notification
            fresh = notification.created_at + self._policy.handoff_window > self._clock.now()
            if notification.claimed_until is not None and fresh:
                recipient = (Recipient(handoff.recipient, handoff.verified) if handoff.recipient is not None
                             else await self._recipient(notification.id))
                await self._attempt_and_retry(notification, recipient)
            else:
                claimed = await self._claim(notification.id, held_until=notification.claimed_until)
                if claimed is not None:
                    await self._attempt_and_retry(*claimed)

    async def _recipient(self, notification_id: UUID) -> Recipient | None:
        async with self._uow(autocommit=True) as uow:
            return await uow.notifications.recipient(notification_id)

    async def recover(self, batch: int = 50) -> int:
        """Claim and deliver notifications left queued (e.g. by a process that died). Returns the count."""
        now = self._clock.now()
        async with self._uow(autocommit=True) as uow:  # one statement each, atomic on its own
            claimed = await uow.notifications.claim_stale(now - self._policy.stale_after, now,
                                                          now + self._policy.lease, batch)
            await uow.commit()
        for notification in claimed:
            await self._attempt_and_retry(notification, await self._recipient(notification.id))
        return len(claimed)

    async def _attempt_and_retry(self, notification: Notification, recipient: Recipient | None) -> None:
        while True:
            delay = await self._attempt(notification, recipient)
            if delay is None:
                return
            await asyncio.sleep(delay + 0.05)  # the lease set by the failure has passed by then
            claimed = await self._claim(notification.id)
            if claimed is None:
                return
            notification, recipient = claimed

    async def _claim(self, notification_id: UUID,
                     held_until: datetime | None = None) -> tuple[Notification, Recipient | None] | None:
        now = self._clock.now()
        async with self._uow(autocommit=True) as uow:
            claimed = await uow.notifications.claim_for_delivery(notification_id, now, now + self._policy.lease,
                                                                 held_until)
            await uow.commit()
        return claimed

    async def _attempt(self, notification: Notification, recipient: Recipient | None) -> float | None:
        """One delivery attempt; the delay before the next one, or None when done."""
        if (recipient is not None and self._notifier.mails_people
                and not notification.may_mail(recipient.verified)):
            async with self._uow(autocommit=True) as uow:  # an unproven address: recorded, never mailed
                await uow.notifications.mark_withheld(notification.id)
            self._metrics.notification(notification.kind, DeliveryOutcome.WITHHELD)
            return None
        try:
            if recipient is None:
                raise LookupError("recipient account no longer exists")
            link = self._sealer.open(notification.sealed_link) if notification.sealed_link else None
            await self._notifier.deliver(notification, recipient.email, link)
        except Exception as exc:
            return await self._record_failure(notification, exc)
        async with self._uow(autocommit=True) as uow:
            await uow.notifications.mark_delivered(notification.id, self._clock.now())
            await uow.commit()
        self._metrics.notification(notification.kind, DeliveryOutcome.DELIVERED)
        return None

    async def _record_failure(self, notification: Notification, exc: Exception) -> float | None:
        reason = f"{type(exc).__name__}: {exc}"[:MAX_ERROR_LENGTH]
        final = notification.attempts >= self._policy.max_attempts
        backoff = self._policy.backoff(notification.attempts)
        now = self._clock.now()
        async with self._uow(autocommit=True) as uow:
            await uow.notifications.mark_attempt_failed(notification.id, reason, final, now + backoff)
            await uow.commit()
        self._metrics.notification(notification.kind, DeliveryOutcome.FAILED if final else DeliveryOutcome.RETRYING)
        log.warning("notification delivery failed", extra={
            "notification_id": str(notification.id), "attempt": notification.attempts,
            "final": final, "reason": reason})
        return None if final else backoff.total_seconds()
