"""Administration (contract v2, "Administration"): every route needs a caller who holds `admin` now."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import Query, status
from fastapi.responses import Response
from pydantic import AfterValidator, AwareDatetime

from api.cursors import check_cursor, decode_cursor, encode_cursor
from api.deps import (
    AdminPrincipal,
    ClientDep,
    DeleteUserCase,
    DisableUserCase,
    EnableUserCase,
    EndUserSessionsCase,
    GatehouseRouter,
    GetUserCase,
    ListUsersCase,
    ListUserSessionsCase,
    SearchSecurityEventsCase,
    SendPasswordResetCase,
    UpdateUserCase,
)
from api.responses import NOT_FOUND, UNAUTHORIZED, UNAVAILABLE, VALIDATION, Responses, problem
from api.routers.accounts import user_out
from api.routers.recovery import ACCEPTED
from api.schemas.admin import (
    AdminSecurityEventOut,
    AdminSecurityEventsPage,
    AdminSessionOut,
    AdminUserOut,
    AdminUserPatch,
    DisableRequest,
    Role,
    UsersPage,
)
from api.schemas.common import Text
from api.schemas.recovery import Accepted
from application.administration import Acting
from application.update_user import KEEP
from domain.administration import EventFilter, UserFilter
from domain.security_events import SecurityEventType
from domain.user import MAX_EMAIL_LENGTH, AccountStatus, User

router = GatehouseRouter(prefix="/admin", tags=["administration"])

FORBIDDEN: Responses = {403: problem("The caller does not hold the admin role (now)")}
ADMIN_ERRORS: Responses = {**UNAUTHORIZED, **FORBIDDEN, **UNAVAILABLE}
LAST_ADMIN: Responses = {
    409: problem("`last_admin`: the last active admin; `cannot_act_on_self`: the caller's own account")}
Cursor = Annotated[str | None, Query(max_length=200, description="`next_cursor` of the previous page"),
                   AfterValidator(check_cursor)]
Limit = Annotated[int, Query(ge=1, le=100)]


def _in_utc(at: datetime) -> datetime:
    try:
        return at.astimezone(UTC)
    except OverflowError:
        raise ValueError("the time is out of range once converted to UTC") from None


Instant = Annotated[AwareDatetime, AfterValidator(_in_utc)]


def admin_user_out(user: User) -> AdminUserOut:
    return AdminUserOut(**user_out(user).model_dump(), status=user.status.value,
                        disabled_reason=user.disabled_reason, last_login_at=user.last_login_at)


@router.get("/users", summary="Find accounts", response_model=UsersPage, responses={**ADMIN_ERRORS, **VALIDATION})
async def list_users(
    _: AdminPrincipal, list_users: ListUsersCase,
    email: Annotated[Text | None, Query(min_length=1, max_length=MAX_EMAIL_LENGTH,
                                        description="a piece of the address, any case")] = None,
    role: Annotated[Role | None, Query()] = None,
    status: Annotated[Literal["active", "disabled"] | None, Query()] = None,
    verified: Annotated[bool | None, Query()] = None,
    limit: Limit = 50, cursor: Cursor = None,
) -> UsersPage:
    """Accounts oldest first, a page at a time (`next_cursor` back as `cursor`); the filters combine."""
    which = UserFilter(email_contains=UserFilter.address_piece(email) if email else None, role=role,
                       status=AccountStatus(status) if status else None, verified=verified)
    users, following = await list_users.execute(which, limit, decode_cursor(cursor) if cursor else None)
    return UsersPage(users=[admin_user_out(u) for u in users],
                     next_cursor=encode_cursor(following) if following else None)


@router.get("/users/{user_id}", summary="Read an account", response_model=AdminUserOut,
            responses={**ADMIN_ERRORS, **NOT_FOUND, **VALIDATION})
async def get_user(user_id: UUID, _: AdminPrincipal, get_user: GetUserCase) -> AdminUserOut:
    """The account with its status, the reason it was disabled, and its last login."""
    return admin_user_out(await get_user.execute(user_id))


@router.patch("/users/{user_id}", summary="Change an account's name or roles", response_model=AdminUserOut,
              responses={**ADMIN_ERRORS, **NOT_FOUND, **LAST_ADMIN, **VALIDATION})
async def update_user(user_id: UUID, body: AdminUserPatch, admin: AdminPrincipal, client: ClientDep,
                      update: UpdateUserCase) -> AdminUserOut:
    """`roles` replaces the account's roles (recorded as `roles_changed`; new access tokens carry them from the
    next refresh, /admin honours them at once). The last active admin keeps `admin` (409 `last_admin`)."""
    sent = body.model_fields_set
    user = await update.execute(Acting.admin(admin.user_id, client), user_id,
                                full_name=body.full_name if "full_name" in sent else KEEP,
                                roles=tuple(body.roles) if "roles" in sent else None)
    return admin_user_out(user)


@router.post("/users/{user_id}/disable", summary="Disable an account", response_model=AdminUserOut,
             responses={**ADMIN_ERRORS, **NOT_FOUND, **LAST_ADMIN, **VALIDATION})
async def disable_user(user_id: UUID, admin: AdminPrincipal, client: ClientDep, disable: DisableUserCase,
                       body: DisableRequest | None = None) -> AdminUserOut:
    """Every session of the account ends at once, login refuses it (`account_disabled`), and the user is told.
    Not your own account, not the last active admin."""
    reason = body.reason if body else None
    return admin_user_out(await disable.execute(Acting.admin(admin.user_id, client), user_id, reason))


@router.post("/users/{user_id}/enable", summary="Enable an account", response_model=AdminUserOut,
             responses={**ADMIN_ERRORS, **NOT_FOUND, **VALIDATION})
async def enable_user(user_id: UUID, admin: AdminPrincipal, client: ClientDep, enable: EnableUserCase) -> AdminUserOut:
    """The account may log in again; none of its old sessions comes back."""
    return admin_user_out(await enable.execute(Acting.admin(admin.user_id, client), user_id))


@router.get("/users/{user_id}/sessions", summary="List an account's sessions", response_model=list[AdminSessionOut],
            responses={**ADMIN_ERRORS, **NOT_FOUND, **VALIDATION})
async def user_sessions(user_id: UUID, _: AdminPrincipal, list_sessions: ListUserSessionsCase) -> list[AdminSessionOut]:
    """The account's live sessions, most recently used first."""
    return [AdminSessionOut.model_validate(s, from_attributes=True) for s in await list_sessions.execute(user_id)]


@router.delete("/users/{user_id}/sessions", summary="End every session of an account",
               status_code=status.HTTP_204_NO_CONTENT, responses={**ADMIN_ERRORS, **NOT_FOUND, **VALIDATION})
async def end_user_sessions(user_id: UUID, admin: AdminPrincipal, client: ClientDep,
                            end_sessions: EndUserSessionsCase) -> Response:
    """Every session ends: refresh tokens are refused at once, access tokens within a second."""
    await end_sessions.execute(Acting.admin(admin.user_id, client), user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/users/{user_id}/password-reset", summary="Send an account a reset link", status_code=202,
             response_model=Accepted, responses={**ADMIN_ERRORS, **NOT_FOUND, **VALIDATION})
async def send_password_reset(user_id: UUID, admin: AdminPrincipal, client: ClientDep,
                              send_reset: SendPasswordResetCase) -> Response:
    """The user gets a reset mail and chooses the new password; an admin never sets or sees one."""
    await send_reset.execute(Acting.admin(admin.user_id, client), user_id)
    return Response(ACCEPTED.model_dump_json(), status_code=status.HTTP_202_ACCEPTED, media_type="application/json")


@router.delete("/users/{user_id}", summary="Delete an account", status_code=status.HTTP_204_NO_CONTENT,
               responses={**ADMIN_ERRORS, **NOT_FOUND, **LAST_ADMIN, **VALIDATION})
async def delete_user(user_id: UUID, admin: AdminPrincipal, client: ClientDep, delete: DeleteUserCase) -> Response:
    """As `DELETE /users/me`: sessions end, the account and what it owns go, the security log stays. Not your own
    account (use `DELETE /users/me`), not the last active admin."""
    await delete.execute(Acting.admin(admin.user_id, client), user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/security-events", summary="Search the security log", response_model=AdminSecurityEventsPage,
            responses={**ADMIN_ERRORS, **VALIDATION})
async def security_events(
    _: AdminPrincipal, search: SearchSecurityEventsCase,
    user_id: Annotated[UUID | None, Query()] = None,
    type: Annotated[SecurityEventType | None, Query()] = None,
    since: Annotated[Instant | None, Query(description="RFC 3339 with an offset, inclusive")] = None,
    until: Annotated[Instant | None, Query(description="RFC 3339 with an offset, exclusive")] = None,
    limit: Limit = 50, cursor: Cursor = None,
) -> AdminSecurityEventsPage:
    """Everyone's security events, newest first; the filters combine."""
    which = EventFilter(user_id=user_id, type=type, since=since, until=until)
    events, following = await search.execute(which, limit, decode_cursor(cursor) if cursor else None)
    return AdminSecurityEventsPage(
        events=[AdminSecurityEventOut.model_validate(e, from_attributes=True) for e in events],
        next_cursor=encode_cursor(following) if following else None)

