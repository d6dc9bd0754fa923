from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Request, status

from api.deps import ContainerDep, CurrentPrincipal
from api.notifications import delivery_task
from api.responses import UNAUTHORIZED, UNAVAILABLE, VALIDATION
from api.schemas.items import MessageCreate, NotificationOut, NotificationQueued
from domain.notifications import Handoff

router = APIRouter(prefix="/notifications", tags=["notifications"])


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=NotificationQueued,
             responses={**UNAUTHORIZED, **VALIDATION, **UNAVAILABLE})
@router.post("/", status_code=status.HTTP_202_ACCEPTED, response_model=NotificationQueued,
             include_in_schema=False)
async def send_message(body: MessageCreate, principal: CurrentPrincipal, c: ContainerDep, request: Request,
                       background: BackgroundTasks) -> NotificationQueued:
    notification = await c.send_message().execute(principal, body.message)
    background.add_task(delivery_task(request), (Handoff(notification),))
    return NotificationQueued(id=notification.id, status=notification.status.value)


@router.get("", response_model=list[NotificationOut], responses={**UNAUTHORIZED, **UNAVAILABLE})
@router.get("/", response_model=list[NotificationOut], include_in_schema=False)
async def list_notifications(principal: CurrentPrincipal, c: ContainerDep) -> list[NotificationOut]:
    return [NotificationOut(id=n.id, kind=n.kind.value, message=n.message, status=n.status.value,
                            created_at=n.created_at, delivered_at=n.delivered_at)
            for n in await c.list_notifications().execute(principal)]
