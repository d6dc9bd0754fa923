from __future__ import annotations

from application.unit_of_work import UnitOfWorkFactory
from domain.errors import RateLimited
from domain.notifications import DeliveryPolicy, Notification, NotificationKind
from domain.ports import Clock, IdGenerator, RateLimiter
from domain.tokens import Principal


class SendMessage:
    """Record a message to the caller (so many per hour); it is delivered after the response (the unit of work
    hands it on)."""

    def __init__(self, uow: UnitOfWorkFactory, limiter: RateLimiter, clock: Clock, ids: IdGenerator,
                 delivery: DeliveryPolicy) -> None:
        self._uow = uow
        self._limiter = limiter
        self._clock = clock
        self._ids = ids
        self._delivery = delivery

    async def execute(self, principal: Principal, message: str) -> Notification:
        notification = Notification.queue(id=self._ids.new_id(), user_id=principal.user_id,
                                          kind=NotificationKind.MESSAGE, message=message,
                                          now=self._clock.now(), lease=self._delivery.lease)
        # Counted once the message is known to be valid: so many messages per user and hour.
        retry_after = await self._limiter.reserve(str(principal.user_id))
        if retry_after is not None:
            raise RateLimited(retry_after, "messages")
        async with self._uow() as uow:
            await uow.notifications.add(notification)
            await uow.commit()
        return notification
