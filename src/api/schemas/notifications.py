"""Bodies of the notification routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, BaseModel, Field

from api.schemas.common import Text
from domain.notifications import MAX_MESSAGE_LENGTH, check_message


class MessageCreate(BaseModel):
    message: Annotated[Text, Field(min_length=1, max_length=MAX_MESSAGE_LENGTH), AfterValidator(check_message)]


class NotificationQueued(BaseModel):
    id: UUID
    status: str


class NotificationOut(BaseModel):
    id: UUID
    kind: str
    message: str
    status: str
    created_at: datetime
    delivered_at: datetime | None
