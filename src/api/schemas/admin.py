"""Shapes of the /admin endpoints (contract v2, "Administration")."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from api.schemas.auth import FullName, SessionFields, UserOut
from api.schemas.common import Text
from api.schemas.recovery import SecurityEventOut
from domain.errors import InvalidRole
from domain.user import MAX_DISABLED_REASON_LENGTH, MAX_ROLE_LENGTH, MAX_ROLES, parse_roles


def _role(name: str) -> str:
    try:
        return parse_roles([name])[0]  # the domain's rule, one place
    except InvalidRole as exc:  # a 422 that says what a role name may be
        raise ValueError(exc.detail) from None


Role = Annotated[str, Field(min_length=1, max_length=MAX_ROLE_LENGTH, examples=["admin"]), AfterValidator(_role)]


class AdminUserOut(UserOut):
    status: Literal["active", "disabled"]
    disabled_reason: str | None
    last_login_at: datetime | None


class UsersPage(BaseModel):
    users: list[AdminUserOut]
    next_cursor: str | None


class AdminUserPatch(BaseModel):
    """What an admin may change. Anything else (a password above all: admins never set one) is refused."""

    model_config = ConfigDict(extra="forbid")

    full_name: FullName | None = None
    roles: Annotated[list[Role], Field(max_length=MAX_ROLES, description="the whole new list (replaces the old)")] = []


Reason = Annotated[Text, Field(max_length=MAX_DISABLED_REASON_LENGTH,
                               description="shown to admins only, never to the user")]


class DisableRequest(BaseModel):
    reason: Reason | None = None


class AdminSessionOut(SessionFields):
    """A session under /admin: no `current` (the admin is not in it)."""


class AdminSecurityEventOut(SecurityEventOut):
    user_id: UUID
    actor_id: UUID | None


class AdminSecurityEventsPage(BaseModel):
    events: list[AdminSecurityEventOut]
    next_cursor: str | None
