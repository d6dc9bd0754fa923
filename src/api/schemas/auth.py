from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, Field

from api.schemas.common import Text


def _valid_email(value: str) -> str:
    try:
        validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid email address: {exc}") from None
    return value


EmailText = Annotated[Text, Field(min_length=3, max_length=320, json_schema_extra={"format": "email"}),
                      AfterValidator(_valid_email)]
Password = Annotated[Text, Field(max_length=1024)]


class RegisterRequest(BaseModel):
    email: EmailText
    password: Annotated[Password, Field(min_length=8)]
    full_name: Annotated[Text, Field(max_length=200)] | None = None


class LoginRequest(BaseModel):
    email: Annotated[Text, Field(max_length=1024)]
    password: Annotated[Text, Field(max_length=4096)]


class RefreshRequest(BaseModel):
    refresh_token: Annotated[Text, Field(max_length=8192)]


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - a token type, not a secret
    expires_in: int
    refresh_token: str
    scope: str


class UserOut(BaseModel):
    id: UUID
    email: str
    full_name: str | None
    created_at: datetime


class ProfilePatch(BaseModel):
    full_name: Annotated[Text, Field(max_length=200)] | None = None


class ChangePasswordRequest(BaseModel):
    current_password: Annotated[Text, Field(max_length=4096)]
    new_password: Annotated[Password, Field(min_length=8)]


class SessionOut(BaseModel):
    id: UUID
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    user_agent: str | None
    ip: str | None
    current: bool
