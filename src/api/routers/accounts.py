"""Registration and the caller's own account."""

from __future__ import annotations

from fastapi import status
from fastapi.responses import Response

from api.deps import (
    ChangePasswordCase,
    ClientDep,
    CurrentPrincipal,
    GatehouseRouter,
    GetProfileCase,
    RegisterUserCase,
    UpdateProfileCase,
)
from api.responses import RATE_LIMITED, UNAUTHORIZED, UNAVAILABLE, VALIDATION, problem
from api.schemas.auth import ChangePasswordRequest, ProfilePatch, RegisterRequest, UserOut
from application.dto import ChangePasswordCommand, RegisterCommand
from domain.user import User

router = GatehouseRouter(tags=["accounts"])


def user_out(user: User) -> UserOut:
    """The user shape, everywhere it appears."""
    return UserOut(id=user.id, email=user.email.value, full_name=user.full_name, created_at=user.created_at,
                   email_verified=user.email_verified, roles=list(user.roles))


@router.get("/users/me", summary="Read my account", response_model=UserOut, responses={**UNAUTHORIZED, **UNAVAILABLE})
async def me(principal: CurrentPrincipal, get_profile: GetProfileCase) -> Response:
    # The hottest authenticated route: serialised once here, instead of FastAPI validating the
    # returned model against response_model and serialising it again (the schema still documents it).
    """The caller's account: id, email, full name, creation time. Needs a bearer access token."""
    user = user_out(await get_profile.execute(principal))
    return Response(user.model_dump_json(), media_type="application/json")


@router.post("/auth/register", summary="Create an account", status_code=status.HTTP_201_CREATED, response_model=UserOut,
             responses={409: problem("Email already registered"), **VALIDATION, **UNAVAILABLE})
async def register(body: RegisterRequest, register_user: RegisterUserCase) -> UserOut:
    """Registers an email and password (at least 8 characters, at most 1024, not a common password). Emails are
    unique however they are spelled. Answers the new user; log in next.
    """
    user = await register_user.execute(RegisterCommand(body.email, body.password, body.full_name))
    return user_out(user)


@router.patch("/users/me", summary="Change my full name",
              response_model=UserOut, responses={**UNAUTHORIZED, **VALIDATION, **UNAVAILABLE})
async def update_me(body: ProfilePatch, principal: CurrentPrincipal, get_profile: GetProfileCase,
                    update_profile: UpdateProfileCase) -> UserOut:
    """`PATCH` changes only the fields sent: `full_name` (a string, or null to clear it). The email cannot be
    changed here.
    """
    if "full_name" not in body.model_fields_set:  # PATCH changes only the fields sent
        return user_out(await get_profile.execute(principal))
    return user_out(await update_profile.execute(principal, body.full_name))


@router.post("/users/me/password", summary="Change my password", status_code=status.HTTP_204_NO_CONTENT,
             responses={400: problem("The current password is wrong"), **UNAUTHORIZED, **VALIDATION,
                        **RATE_LIMITED, **UNAVAILABLE})
async def change_password(body: ChangePasswordRequest, principal: CurrentPrincipal, client: ClientDep,
                          change: ChangePasswordCase) -> Response:
    """Needs the current password. Every other session of the user ends; the caller's stays, and the user is told
    by notification. Wrong current passwords are limited per user (5 per 15 minutes by default), then 429 with
    Retry-After.
    """
    await change.execute(principal, ChangePasswordCommand(body.current_password, body.new_password), client)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
