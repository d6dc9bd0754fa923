"""JSON endpoints of the token lifecycle: login, refresh, logout, sessions."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse, Response

from api.deps import (
    ClientDep,
    CurrentPrincipal,
    EndSessionCase,
    GatehouseRoute,
    ListSessionsCase,
    LogInCase,
    LogOutCase,
    LogOutEverywhereCase,
    RotateRefreshTokenCase,
)
from api.responses import TOKEN_HEADERS, UNAUTHORIZED, UNAVAILABLE, VALIDATION, problem
from api.schemas.auth import LoginRequest, RefreshRequest, SessionOut, TokenResponse
from application.dto import LoginCommand
from domain.tokens import IssuedTokens

router = APIRouter(prefix="/auth", tags=["auth"], route_class=GatehouseRoute)


def token_response(tokens: IssuedTokens) -> JSONResponse:
    body = {"access_token": tokens.access_token, "token_type": "Bearer", "expires_in": tokens.expires_in,
            "refresh_token": tokens.refresh_token, "scope": tokens.scope}
    return JSONResponse(body, headers=TOKEN_HEADERS)


@router.post("/login", response_model=TokenResponse,
             responses={401: problem("Invalid credentials"), 429: problem("Too many failed attempts"),
                        **VALIDATION, **UNAVAILABLE})
async def login(body: LoginRequest, client: ClientDep, log_in: LogInCase) -> Response:
    return token_response(await log_in.execute(LoginCommand(body.email, body.password, client)))


@router.post("/refresh", response_model=TokenResponse,
             responses={401: problem("Unknown, expired, revoked or reused refresh token"),
                        **VALIDATION, **UNAVAILABLE})
async def refresh(body: RefreshRequest, rotate: RotateRefreshTokenCase) -> Response:
    return token_response(await rotate.execute(body.refresh_token))


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, responses={**VALIDATION, **UNAVAILABLE})
async def logout(body: RefreshRequest, log_out: LogOutCase) -> Response:
    await log_out.execute(body.refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/logout-all", status_code=status.HTTP_204_NO_CONTENT, responses={**UNAUTHORIZED, **UNAVAILABLE})
async def logout_all(principal: CurrentPrincipal, log_out_everywhere: LogOutEverywhereCase) -> Response:
    await log_out_everywhere.execute(principal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/sessions", response_model=list[SessionOut], responses={**UNAUTHORIZED, **UNAVAILABLE})
async def list_sessions(principal: CurrentPrincipal, list_live: ListSessionsCase) -> list[SessionOut]:
    views = await list_live.execute(principal)
    return [SessionOut(id=v.id, created_at=v.created_at, last_used_at=v.last_used_at, expires_at=v.expires_at,
                       user_agent=v.user_agent, ip=v.ip, current=v.current) for v in views]


@router.delete("/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses={**UNAUTHORIZED, **VALIDATION, **UNAVAILABLE, 404: problem("No such session")})
async def end_session(session_id: UUID, principal: CurrentPrincipal, end: EndSessionCase) -> Response:
    await end.execute(principal, session_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
