"""Commands and results of the use cases: plain frozen dataclasses, no HTTP knowledge."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from domain.user import User


@dataclass(frozen=True, slots=True)
class ClientInfo:
    ip: str | None
    user_agent: str | None


@dataclass(frozen=True, slots=True)
class RegisterCommand:
    email: str
    password: str
    full_name: str | None = None
    roles: tuple[str, ...] = ()  # only the operator's `gatehouse users create --role` gives any


@dataclass(frozen=True, slots=True)
class LoginCommand:
    email: str
    password: str
    client: ClientInfo
    browser: bool = False  # a session held in browser cookies: its refresh tokens carry the browser mark


@dataclass(frozen=True, slots=True)
class ChangePasswordCommand:
    current_password: str
    new_password: str


@dataclass(frozen=True, slots=True)
class ItemChanges:
    """What to change of an item: `title` None leaves it; `description_given` tells "set to None" from
    "leave it"."""

    title: str | None = None
    description: str | None = None
    description_given: bool = False


@dataclass(frozen=True, slots=True)
class BrowserSession:
    """What a browser's cookies stand for: the account, the session (its CSRF token is bound to it) and how long
    the access cookie's token has left (0: only the refresh cookie is left; refresh now)."""

    user: User
    session_id: UUID
    expires_in: int
