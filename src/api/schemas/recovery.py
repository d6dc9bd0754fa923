from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from api.schemas.auth import EmailText, NewPassword, PresentedPassword
from api.schemas.common import Text
from domain.tokens import MAX_TOKEN_LENGTH

LinkToken = Annotated[Text, Field(min_length=1, max_length=MAX_TOKEN_LENGTH,
                                  description="the token from the link's fragment (`#token=…`)")]


class Accepted(BaseModel):
    status: Literal["accepted"] = "accepted"


class PasswordResetRequest(BaseModel):
    email: EmailText


class PasswordResetConfirm(BaseModel):
    token: LinkToken
    new_password: NewPassword


class EmailVerificationConfirm(BaseModel):
    token: LinkToken


class EmailChangeRequest(BaseModel):
    new_email: EmailText
    current_password: PresentedPassword


class DeleteAccountRequest(BaseModel):
    current_password: PresentedPassword


class SecurityEventOut(BaseModel):
    id: UUID
    type: str
    at: datetime
    ip: str | None
    user_agent: str | None
    session_id: UUID | None
    actor: Literal["user", "admin", "system"]


class SecurityEventsPage(BaseModel):
    events: list[SecurityEventOut]
    next_cursor: str | None
