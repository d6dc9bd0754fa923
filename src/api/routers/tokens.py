"""JSON endpoints of the token lifecycle: login, refresh, logout, sessions."""

from __future__ import annotations

from uuid import UUID

from fastapi import status
from fastapi.responses import JSONResponse, Response

from api.deps import (
    ClientDep,
    CurrentPrincipal,
    EndSessionCase,
    GatehouseRouter,
    ListSessionsCase,
    LogInCase,
    LogOutCase,
    LogOutEverywhereCase,
    RotateRefreshTokenCase,
)
from api.responses import TOKEN_HEADERS, UNAUTHORIZED, UNAVAILABLE, VALIDATION, problem
from api.schemas.auth import LoginRequest, LogoutRequest, RefreshRequest, SessionOut, TokenResponse
from application.dto import LoginCommand
from domain.tokens import IssuedTokens

router = GatehouseRouter(prefix="/auth", tags=["auth"])


def token_response(tokens: IssuedTokens) -> JSONResponse:
    body = {"access_token": tokens.access_token, "token_type": "Bearer", "expires_in": tokens.expires_in,
            "refresh_token": tokens.refresh_token, "scope": tokens.scope}
    return JSONResponse(body, headers=TOKEN_HEADERS)


@router.post("/login", summary="Log in (JSON)", response_model=TokenResponse,
             responses={401: problem("Invalid credentials"), 429: problem("Too many failed attempts"),
                        **VALIDATION, **UNAVAILABLE})
async def login(body: LoginRequest, client: ClientDep, log_in: LogInCase) -> Response:
    """Email and password in, a token response out: an access token (JWT, 15 minutes) and a refresh token that
    rotates on each use. Failures are limited per email and client address (5 per 15 minutes by default), then
    429 with Retry-After, even for the correct password. For the OAuth2 form, use `POST /auth/token`.
    """
    return token_response(await log_in.execute(LoginCommand(body.email, body.password, client)))


@router.post("/refresh", summary="Rotate a refresh token", response_model=TokenResponse,
             responses={401: problem("Unknown, expired, revoked or reused refresh token"),
                        **VALIDATION, **UNAVAILABLE})
async def refresh(body: RefreshRequest, rotate: RotateRefreshTokenCase) -> Response:
    """Spends the refresh token and answers new tokens for the same session. Presenting a spent token again is
    reuse: the whole session ends and the user is told.
    """
    return token_response(await rotate.execute(body.refresh_token))


@router.post("/logout", summary="End one session",
             status_code=status.HTTP_204_NO_CONTENT, responses={**VALIDATION, **UNAVAILABLE})
async def logout(body: LogoutRequest, client: ClientDep, log_out: LogOutCase) -> Response:
    """Ends the session a refresh token (current or spent) or one of its access tokens belongs to. Always 204, also
    for unknown tokens; other sessions are untouched.
    """
    await log_out.execute(body.refresh_token, client)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/logout-all", summary="End every session",
             status_code=status.HTTP_204_NO_CONTENT, responses={**UNAUTHORIZED, **UNAVAILABLE})
async def logout_all(principal: CurrentPrincipal, client: ClientDep,
                     log_out_everywhere: LogOutEverywhereCase) -> Response:
    """Ends every session of the caller, the caller's own included."""
    await log_out_everywhere.execute(principal, client)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/sessions", summary="List my sessions",
            response_model=list[SessionOut], responses={**UNAUTHORIZED, **UNAVAILABLE})
async def list_sessions(principal: CurrentPrincipal, list_live: ListSessionsCase) -> list[SessionOut]:
    """The caller's live sessions, with when they started, were last used and expire, the client's address and user
    agent, and which one is the caller's.
    """
    views = await list_live.execute(principal)
    return [SessionOut.model_validate(v, from_attributes=True) for v in views]


@router.delete("/sessions/{session_id}", summary="End one of my sessions", status_code=status.HTTP_204_NO_CONTENT,
               responses={**UNAUTHORIZED, **VALIDATION, **UNAVAILABLE, 404: problem("No such session")})
async def end_session(session_id: UUID, principal: CurrentPrincipal, client: ClientDep,
                      end: EndSessionCase) -> Response:
    """Ends a session of the caller by its id. Another user's session is 404, like one that does not exist."""
    await end.execute(principal, session_id, client)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
