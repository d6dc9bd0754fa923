from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, Field

from api.schemas.common import Text
from domain.tokens import MAX_TOKEN_LENGTH
from domain.user import (
    MAX_EMAIL_LENGTH,
    MAX_FULL_NAME_LENGTH,
    MAX_LOGIN_EMAIL_LENGTH,
    MAX_LOGIN_PASSWORD_LENGTH,
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
)


def valid_email(value: str) -> str:
    try:
        validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid email address: {exc}") from None
    return value


EmailText = Annotated[Text, Field(min_length=3, max_length=MAX_EMAIL_LENGTH, json_schema_extra={"format": "email"}),
                      AfterValidator(valid_email)]
NewPassword = Annotated[Text, Field(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)]
PresentedPassword = Annotated[Text, Field(max_length=MAX_LOGIN_PASSWORD_LENGTH)]
FullName = Annotated[Text, Field(max_length=MAX_FULL_NAME_LENGTH)]


class RegisterRequest(BaseModel):
    email: EmailText
    password: NewPassword
    full_name: FullName | None = None


class LoginRequest(BaseModel):
    email: Annotated[Text, Field(max_length=MAX_LOGIN_EMAIL_LENGTH)]
    password: PresentedPassword


class RefreshRequest(BaseModel):
    refresh_token: Annotated[Text, Field(max_length=MAX_TOKEN_LENGTH,
                                         description="the refresh token from the last token response")]


class LogoutRequest(BaseModel):
    refresh_token: Annotated[Text, Field(
        max_length=MAX_TOKEN_LENGTH,
        description="a refresh token of the session to end (current or spent), or one of its access tokens")]


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
    email_verified: bool
    roles: list[str] = Field(description="empty by default; `admin` is the one built-in role")


class ProfilePatch(BaseModel):
    full_name: FullName | None = None


class ChangePasswordRequest(BaseModel):
    current_password: PresentedPassword
    new_password: NewPassword


class SessionFields(BaseModel):
    """A session as its user and admins see it (the admin view has exactly these)."""

    id: UUID
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    user_agent: str | None
    ip: str | None


class SessionOut(SessionFields):
    current: bool


class IntrospectionOut(BaseModel):
    """RFC 7662 answer. For an inactive token it is `{"active": false}` alone; every other member is there when
    the token is active."""

    active: bool
    token_type: Literal["Bearer"] | None = None
    sub: str | None = None
    sid: str | None = None
    iss: str | None = None
    aud: str | None = None
    exp: int | None = None
    iat: int | None = None
    jti: str | None = None
    scope: str | None = None
    roles: list[str] | None = None
    client_id: None = Field(default=None, description="always null: Gatehouse's tokens are first-party")


class BrowserSessionOut(BaseModel):
    """A browser session's answer: never a token in it, only the CSRF token the page must send back."""

    user: UserOut
    expires_in: int = Field(description="seconds the access cookie's token has left (0: refresh now)")
    csrf_token: str = Field(description="send it as X-CSRF-Token on unsafe requests; valid for the session's life")
