"""Messages to the caller and the caller's notifications (recorded first, delivered after the response)."""

from __future__ import annotations

from fastapi import status

from api.deps import CurrentPrincipal, GatehouseRouter, ListNotificationsCase, SendMessageCase
from api.responses import RATE_LIMITED, UNAUTHORIZED, UNAVAILABLE, VALIDATION
from api.schemas.notifications import MessageCreate, NotificationOut, NotificationQueued

router = GatehouseRouter(prefix="/notifications", tags=["notifications"])


@router.post("", summary="Send myself a message",
             status_code=status.HTTP_202_ACCEPTED, response_model=NotificationQueued,
             responses={**UNAUTHORIZED, **VALIDATION, **RATE_LIMITED, **UNAVAILABLE})
@router.post("/", status_code=status.HTTP_202_ACCEPTED, response_model=NotificationQueued,
             include_in_schema=False)
async def send_message(body: MessageCreate, principal: CurrentPrincipal, send: SendMessageCase) -> NotificationQueued:
    """Recorded at once and delivered after the response (202). At most 10 per user per hour by default, then 429
    with Retry-After.
    """
    notification = await send.execute(principal, body.message)  # delivered after the response
    return NotificationQueued(id=notification.id, status=notification.status.value)


@router.get("", summary="List my notifications",
            response_model=list[NotificationOut], responses={**UNAUTHORIZED, **UNAVAILABLE})
@router.get("/", response_model=list[NotificationOut], include_in_schema=False)
async def list_notifications(principal: CurrentPrincipal, list_all: ListNotificationsCase) -> list[NotificationOut]:
    """Messages and security notices (new sign-in, password changed, refresh-token reuse), newest first, with their
    delivery status.
    """
    return [NotificationOut(id=n.id, kind=n.kind.value, message=n.message, status=n.status.value,
                            created_at=n.created_at, delivered_at=n.delivered_at)
            for n in await list_all.execute(principal)]
