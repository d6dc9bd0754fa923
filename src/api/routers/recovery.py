"""Account recovery and verification: password reset, proof and change of address, the security log,
deleting one's own account (contract v2, "Account recovery and verification")."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, status
from fastapi.responses import Response
from pydantic import AfterValidator

from api.cursors import check_cursor, decode_cursor, encode_cursor
from api.deps import (
    ChangeEmailCase,
    ClientDep,
    ConfirmEmailCase,
    CurrentPrincipal,
    DeleteAccountCase,
    GatehouseRouter,
    ListSecurityEventsCase,
    RequestPasswordResetCase,
    ResendVerificationCase,
    ResetPasswordCase,
)
from api.responses import RATE_LIMITED, UNAUTHORIZED, UNAVAILABLE, VALIDATION, problem
from api.routers.accounts import user_out
from api.schemas.auth import UserOut
from api.schemas.recovery import (
    Accepted,
    DeleteAccountRequest,
    EmailChangeRequest,
    EmailVerificationConfirm,
    PasswordResetConfirm,
    PasswordResetRequest,
    SecurityEventOut,
    SecurityEventsPage,
)

router = GatehouseRouter(tags=["recovery"])
ACCEPTED = Accepted()


def _accepted() -> Response:
    return Response(ACCEPTED.model_dump_json(), status_code=status.HTTP_202_ACCEPTED, media_type="application/json")


@router.post("/auth/password-reset", summary="Ask for a password reset link", status_code=202,
             response_model=Accepted, responses={**VALIDATION, **RATE_LIMITED, **UNAVAILABLE})
async def request_reset(body: PasswordResetRequest, client: ClientDep,
                        request_reset: RequestPasswordResetCase) -> Response:
    """Mails a reset link (valid 30 minutes by default) if the address has an account. The answer is the same
    `202` whether or not it has one: the lookup and the mail happen after the response. At most 3 mails per
    address per hour; at most 30 requests per client address per 15 minutes, then 429.
    """
    await request_reset.execute(body.email, client)
    return _accepted()


@router.post("/auth/password-reset/confirm", summary="Set a new password with a reset link", status_code=204,
             responses={400: problem("The reset link is unknown, expired, used or voided"), **VALIDATION,
                        **UNAVAILABLE})
async def confirm_reset(body: PasswordResetConfirm, client: ClientDep, reset: ResetPasswordCase) -> Response:
    """Takes the token from the link's fragment and the new password (the policy of registration). Every session
    of the account ends, every other reset link is void, the address counts as verified, and the user is told.
    """
    await reset.execute(body.token, body.new_password, client)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/users/me/email-verification", summary="Send a new verification link", status_code=202,
             response_model=Accepted, responses={409: problem("The address is verified already"), **UNAUTHORIZED,
                                                 **UNAVAILABLE})
async def resend_verification(principal: CurrentPrincipal, resend: ResendVerificationCase) -> Response:
    """Mails a new link to the account's address (the earlier ones stop working); at most 3 per hour."""
    await resend.execute(principal)
    return _accepted()


@router.post("/auth/email-verification/confirm", summary="Confirm an email address", response_model=UserOut,
             responses={400: problem("The verification link is unknown, expired or used"),
                        409: problem("The new address was taken meanwhile"), **VALIDATION, **UNAVAILABLE})
async def confirm_email(body: EmailVerificationConfirm, client: ClientDep, confirm: ConfirmEmailCase) -> UserOut:
    """Takes the token from the link's fragment. Proves the address; for a change of address, the account
    moves to the new address now and the old one is told. Needs no session and makes none.
    """
    return user_out(await confirm.execute(body.token, client))


@router.post("/users/me/email", summary="Change my email address", status_code=202, response_model=Accepted,
             responses={400: problem("The current password is wrong"), 409: problem("Email already registered"),
                        **UNAUTHORIZED, **VALIDATION, **RATE_LIMITED, **UNAVAILABLE})
async def change_email(body: EmailChangeRequest, principal: CurrentPrincipal, client: ClientDep,
                       change: ChangeEmailCase) -> Response:
    """Needs the current password. A link goes to the new address and a notice to the current one; the change
    takes effect when the link is confirmed (until then the current address logs in).
    """
    await change.execute(principal, body.new_email, body.current_password, client)
    return _accepted()


@router.get("/users/me/security-events", summary="Read my security log", response_model=SecurityEventsPage,
            responses={**UNAUTHORIZED, **VALIDATION, **UNAVAILABLE})
async def security_events(
    principal: CurrentPrincipal, list_events: ListSecurityEventsCase,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=200, description="`next_cursor` of the previous page"),
                      AfterValidator(check_cursor)] = None,
) -> SecurityEventsPage:
    """What happened to the account (logins, failed logins, sessions ended, password and address changes),
    newest first, a page at a time: pass `next_cursor` back as `cursor` for the next page.
    """
    events, following = await list_events.execute(principal, limit, decode_cursor(cursor) if cursor else None)
    return SecurityEventsPage(
        events=[SecurityEventOut.model_validate(e, from_attributes=True) for e in events],
        next_cursor=encode_cursor(following) if following else None)


@router.delete("/users/me", summary="Delete my account", status_code=204,
               responses={400: problem("The current password is wrong"),
                          409: problem("`last_admin`: the last active admin cannot delete their account"),
                          **UNAUTHORIZED, **VALIDATION, **RATE_LIMITED, **UNAVAILABLE})
async def delete_me(body: DeleteAccountRequest, principal: CurrentPrincipal, client: ClientDep,
                    delete: DeleteAccountCase) -> Response:
    """Needs the current password. The account and everything it owns (items, notifications, sessions) are
    deleted at once; its security log stays. The address can register again.
    """
    await delete.execute(principal, body.current_password, client)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
