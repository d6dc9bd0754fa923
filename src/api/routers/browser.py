"""Browser endpoints: log in, read, refresh and end a session held in cookies (api/browser.py), never a token in
JavaScript's reach."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, status
from fastapi.responses import Response

from api.browser import BrowserCookies
from api.container import Container
from api.deps import (
    ClientDep,
    GatehouseRouter,
    LogInCase,
    LogOutCase,
    ReadBrowserSessionCase,
    RotateBrowserRefreshTokenCase,
    SessionOfRefreshTokenCase,
    container_of,
)
from api.responses import TOKEN_HEADERS, UNAVAILABLE, VALIDATION, Responses, problem
from api.routers.accounts import user_out
from api.schemas.auth import BrowserSessionOut, LoginRequest
from application.dto import BrowserSession, LoginCommand
from domain.errors import CsrfFailed, InvalidRefreshToken
from domain.tokens import IssuedTokens

router = GatehouseRouter(prefix="/auth/browser", tags=["browser"])

CSRF_FAILED: Responses = {403: problem("Origin not allowed, or no X-CSRF-Token of this session (`csrf_failed`)")}


def from_allowed_origin(request: Request) -> None:
    """First of all: the request comes from an allowed origin (or Gatehouse's own)."""
    container_of(request).browser_transport().check_origin(request.scope["headers"])


def csrf_checked(request: Request) -> tuple[BrowserCookies, str]:
    """First of all: an allowed Origin and an X-CSRF-Token equal to the CSRF cookie. The cookies, and the token."""
    transport = container_of(request).browser_transport()
    cookies = transport.cookies(request.scope["headers"])
    return cookies, transport.check_csrf(request.scope["headers"], cookies)


CsrfChecked = Annotated[tuple[BrowserCookies, str], Depends(csrf_checked)]


def _answer(container: Container, session: BrowserSession, tokens: IssuedTokens | None) -> Response:
    csrf = container.csrf_tokens().for_session(session.session_id)
    expires_in = session.expires_in if tokens is None else tokens.expires_in  # as the cookie's Max-Age
    body = BrowserSessionOut(user=user_out(session.user), expires_in=expires_in, csrf_token=csrf)
    response = Response(body.model_dump_json(), media_type="application/json", headers=TOKEN_HEADERS)
    if tokens is not None:
        container.browser_transport().set_session(response, tokens.access_token, tokens.expires_in,
                                                  tokens.refresh_token, tokens.session_expires_in, csrf)
    return response


async def _bound_session(session_of: SessionOfRefreshTokenCase, refresh_token: str, csrf_token: str,
                         container: Container) -> bool:
    """Whether the refresh token belongs to a session at all; CsrfFailed if the CSRF token is not that session's."""
    session_id = await session_of.execute(refresh_token)
    if session_id is None:
        return False
    if not container.csrf_tokens().admits(session_id, csrf_token):
        raise CsrfFailed("The X-CSRF-Token is not this session's: use the csrf_token answered for it")
    return True


@router.post("/login", summary="Log in a browser (cookies)", response_model=BrowserSessionOut,
             dependencies=[Depends(from_allowed_origin)],
             responses={401: problem("Invalid credentials"), 429: problem("Too many failed attempts"),
                        403: problem("Origin not allowed (`csrf_failed`), or the account is disabled"),
                        **VALIDATION, **UNAVAILABLE})
async def browser_login(request: Request, body: LoginRequest, client: ClientDep, log_in: LogInCase,
                        read: ReadBrowserSessionCase) -> Response:
    """As `POST /auth/login`, for a page of an allowed origin: the tokens go into HttpOnly cookies, the answer holds
    the account, `expires_in` and the session's `csrf_token` (keep it in memory; send it as `X-CSRF-Token`)."""
    tokens = await log_in.execute(LoginCommand(body.email, body.password, client, browser=True))
    session = await read.execute(tokens.access_token, tokens.refresh_token)
    return _answer(container_of(request), session, tokens)


@router.get("/session", summary="Read the browser session", response_model=BrowserSessionOut,
            responses={401: problem("No live browser session"), **UNAVAILABLE})
async def browser_session(request: Request, read: ReadBrowserSessionCase) -> Response:
    """By the access cookie, or else the refresh cookie: the account, `expires_in` (0: refresh now) and the
    session's `csrf_token`, which is how a reloaded page gets it back."""
    cookies = container_of(request).browser_transport().cookies(request.scope["headers"])
    return _answer(container_of(request), await read.execute(cookies.access, cookies.refresh), None)


@router.post("/refresh", summary="Rotate the browser's cookies", response_model=BrowserSessionOut,
             responses={401: problem("Unknown, expired, revoked or reused refresh cookie (`invalid_refresh_token`)"),
                        **CSRF_FAILED, **UNAVAILABLE})
async def browser_refresh(request: Request, checked: CsrfChecked, session_of: SessionOfRefreshTokenCase,
                          rotate: RotateBrowserRefreshTokenCase, read: ReadBrowserSessionCase) -> Response:
    """Rotates the access and refresh cookies as `POST /auth/refresh` rotates tokens (reuse ends the session), with
    the browser grace window: tabs refreshing at once with one cookie all get its one successor."""
    cookies, csrf_token = checked
    container = container_of(request)
    if cookies.refresh is None or not await _bound_session(session_of, cookies.refresh, csrf_token, container):
        raise InvalidRefreshToken()
    tokens = await rotate.execute(cookies.refresh)
    return _answer(container, await read.execute(tokens.access_token, None), tokens)


@router.post("/logout", summary="End the browser session", status_code=status.HTTP_204_NO_CONTENT,
             responses={**CSRF_FAILED, **UNAVAILABLE})
async def browser_logout(request: Request, checked: CsrfChecked, client: ClientDep,
                         session_of: SessionOfRefreshTokenCase, log_out: LogOutCase) -> Response:
    """Ends the session of the refresh cookie and clears the three cookies. Without a refresh cookie: 204, and
    nothing happens."""
    cookies, csrf_token = checked
    container = container_of(request)
    response = Response(status_code=status.HTTP_204_NO_CONTENT, headers=TOKEN_HEADERS)
    if cookies.refresh is None:
        return response
    if await _bound_session(session_of, cookies.refresh, csrf_token, container):
        await log_out.execute(cookies.refresh, client)
    container.browser_transport().clear(response)
    return response
