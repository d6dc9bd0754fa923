"""Everything a route declares: the bearer chain (token → verified claims → live session), the client's
address, and one `Annotated` alias per use case (filled by `GatehouseRoute`), so a route's signature
says what it uses."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.routing import APIRoute
from fastapi.security import OAuth2PasswordBearer

from api.browser import UNSAFE_METHODS
from api.container import Container
from api.middleware import CONTAINER
from application.change_email import ChangeEmail
from application.change_password import ChangePassword
from application.confirm_email import ConfirmEmail
from application.create_item import CreateItem
from application.delete_account import DeleteAccount
from application.delete_item import DeleteItem
from application.delete_user import DeleteUser
from application.disable_user import DisableUser
from application.dto import ClientInfo
from application.enable_user import EnableUser
from application.end_session import EndSession
from application.end_user_sessions import EndUserSessions
from application.get_item import GetItem
from application.get_profile import GetProfile
from application.get_user import GetUser
from application.introspect_token import IntrospectToken
from application.list_items import ListItems
from application.list_notifications import ListNotifications
from application.list_security_events import ListSecurityEvents
from application.list_sessions import ListSessions
from application.list_user_sessions import ListUserSessions
from application.list_users import ListUsers
from application.log_in import LogIn
from application.log_out import LogOut
from application.log_out_everywhere import LogOutEverywhere
from application.read_browser_session import ReadBrowserSession
from application.register_user import RegisterUser
from application.request_password_reset import RequestPasswordReset
from application.resend_verification import ResendVerification
from application.reset_password import ResetPassword
from application.rotate_refresh_token import RotateRefreshToken
from application.search_security_events import SearchSecurityEvents
from application.send_message import SendMessage
from application.send_password_reset import SendPasswordReset
from application.session_of_refresh_token import SessionOfRefreshToken
from application.update_item import UpdateItem
from application.update_profile import UpdateProfile
from application.update_user import UpdateUser
from domain.errors import CsrfFailed, NotAuthenticated
from domain.rate_limits import client_address
from domain.session import MAX_USER_AGENT_LENGTH
from domain.tokens import Principal
from infrastructure.db.probe import DatabaseProbe
from infrastructure.rate_limit import RateLimits
from infrastructure.security.keys import KeyRing
from infrastructure.settings import Settings


def container_of(request: Request) -> Container:
    """The application's container, which GatehouseMiddleware puts in every request's scope."""
    return cast(Container, request.scope[CONTAINER])


class BearerPrincipal(OAuth2PasswordBearer):
    """The bearer token → verified claims → live session, as one dependency.

    Being an OAuth2PasswordBearer, it gives Swagger UI its *Authorize* button (password flow against
    /auth/token) and documents the security requirement of every route that uses it; resolving the
    principal in the same call, instead of chaining scheme → container → principal, saves FastAPI
    two dependency resolutions on every authenticated request, and reading the header straight from
    the ASGI scope (as OAuth2PasswordBearer reads it: the first `Authorization`, scheme `Bearer` in any
    case) saves building the request's header map (measured: `/users/me`, docs/PERFORMANCE.md).
    async def: verification is a few microseconds of CPU (usually a cache hit); a threadpool hop
    would cost more than the work.
    """

    async def __call__(self, request: Request) -> Principal:  # type: ignore[override]
        headers = request.scope["headers"]
        value = authorization(headers)
        if value is not None:  # an Authorization header wins over the browser's cookies
            token = bearer_token_of(value)
            if not token:
                raise NotAuthenticated("A bearer access token is required")
            return await container_of(request).authenticate().execute(token)
        return await _cookie_principal(request, headers)


async def _cookie_principal(request: Request, headers: list[tuple[bytes, bytes]]) -> Principal:
    """The browser's access cookie, as a bearer token; an unsafe method also needs an allowed Origin and the CSRF
    token of the session (api/browser.py), checked before the token and after it, before the route runs."""
    container = container_of(request)
    transport = container.browser_transport()
    cookies = transport.cookies(headers)
    if cookies.access is None:
        raise NotAuthenticated("A bearer access token is required")
    presented = transport.check_csrf(headers, cookies) if request.scope["method"] in UNSAFE_METHODS else None
    principal = await container.authenticate().execute(cookies.access)
    if presented is not None and not container.csrf_tokens().admits(principal.session_id, presented):
        raise CsrfFailed("The X-CSRF-Token is not this session's: use the csrf_token answered for it")
    return principal


def authorization(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The first `Authorization` header, read straight from the ASGI scope (no header map built)."""
    for name, value in headers:
        if name == b"authorization":
            return value.decode("latin-1")
    return None


def bearer_token_of(value: str) -> str | None:
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


bearer_principal = BearerPrincipal(tokenUrl="/auth/token", auto_error=False, scheme_name="OAuth2PasswordBearer",
                                   description="Log in with your email as the username")
CurrentPrincipal = Annotated[Principal, Depends(bearer_principal)]


async def admin_principal(request: Request, principal: CurrentPrincipal) -> Principal:
    """The bearer chain, then: the caller holds `admin` now (read from the store: RequireAdmin)."""
    await container_of(request).require_admin().execute(principal)
    return principal


AdminPrincipal = Annotated[Principal, Depends(admin_principal)]


async def client_info(request: Request) -> ClientInfo:  # async def: no threadpool hop (see above)
    agent = request.headers.get("user-agent")
    return ClientInfo(ip=client_address(request.client.host) if request.client else None,
                      user_agent=agent[:MAX_USER_AGENT_LENGTH] if agent else None)


ClientDep = Annotated[ClientInfo, Depends(client_info)]


@dataclass(frozen=True, slots=True)
class UseCase:
    """Marks a route parameter as "the container's provider of this name" (a use case, or an adapter).
    Checked when the route is built: the provider exists and makes what the parameter is annotated with."""

    provider: str

    def __post_init__(self) -> None:
        if self.provider not in Container.providers:
            raise LookupError(f"the container has no provider {self.provider!r}")


class GatehouseRoute(APIRoute):
    """An APIRoute that fills the parameters marked `UseCase` with the container's single instance of
    what they name (use cases hold no per-request state), so a route's signature says what it uses.

    Why not a `Depends` per use case: FastAPI resolves each dependency through the whole of
    `solve_dependencies` (parameter extraction, cache keys, callable inspection), which measured
    ~8 µs a request for one more dependency on `GET /users/me` (docs/PERFORMANCE.md). Filling them
    here costs a dictionary lookup each; FastAPI sees the endpoint without those parameters (plus the
    `Request`, added if the endpoint does not take it), so they are absent from the OpenAPI schema too.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, _with_use_cases(endpoint), **kwargs)


class GatehouseRouter(APIRouter):
    """A module's routes, declared here and built for each app that includes them (`include_flat`).

    `app.include_router` keeps a router as one nested entry, which FastAPI 0.165 matches on every request by
    walking the router's route version and candidates, then matching the route again when handling it: ~15 µs
    a request on `GET /users/me` with ten routers (a fifth of the route's own time, docs/PERFORMANCE.md).
    `include_flat` adds the declared routes to the app's own list instead, made by the app's router, so they
    are the app's routes in every way (`app.dependency_overrides` reaches them). Declarations only: building
    a route here as well would keep a second copy of every route, its models and dependants for the process's
    life. A router-level prefix, tags and include_in_schema apply; nothing else is set at this level.
    Why: docs/adr/0009-request-path-at-default-settings.md.
    """

    def __init__(self, *, prefix: str = "", tags: list[str | Enum] | None = None,
                 include_in_schema: bool = True) -> None:
        super().__init__(prefix=prefix, tags=tags, include_in_schema=include_in_schema, route_class=GatehouseRoute)
        self.declared: list[tuple[str, Callable[..., Any], dict[str, Any]]] = []

    def add_api_route(self, path: str, endpoint: Callable[..., Any], **options: Any) -> None:
        self.declared.append((path, endpoint, options))


def include_flat(app: FastAPI, router: GatehouseRouter) -> None:
    """Build the router's declared routes as routes of the app, in order, after the app's others."""
    for path, endpoint, options in router.declared:
        app.router.add_api_route(router.prefix + path, endpoint, **{
            **options, "tags": [*router.tags, *(options.get("tags") or [])], "route_class_override": GatehouseRoute,
            "include_in_schema": router.include_in_schema and options.get("include_in_schema", True)})


def _with_use_cases(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    signature = inspect.signature(endpoint, eval_str=True)
    picks: dict[str, str] = {}
    for name, parameter in signature.parameters.items():
        for marker in getattr(parameter.annotation, "__metadata__", ()):
            if isinstance(marker, UseCase):
                _check_makes(marker.provider, parameter.annotation.__origin__, endpoint)
                picks[name] = marker.provider
    if not picks:
        return endpoint
    if not inspect.iscoroutinefunction(endpoint):
        raise TypeError(f"{endpoint.__qualname__}: a route taking use cases must be `async def`")
    kept = [p for name, p in signature.parameters.items() if name not in picks]
    request_name = next((p.name for p in kept if p.annotation is Request), None)
    added = request_name is None
    if request_name is None:
        request_name = "gatehouse_request"
        kept.append(inspect.Parameter(request_name, inspect.Parameter.KEYWORD_ONLY, annotation=Request))

    async def endpoint_with_use_cases(**values: Any) -> Any:
        request = values.pop(request_name) if added else values[request_name]
        container = container_of(request)
        for name, provider in picks.items():
            values[name] = getattr(container, provider)()
        return await endpoint(**values)

    functools.update_wrapper(endpoint_with_use_cases, endpoint)
    endpoint_with_use_cases.__signature__ = signature.replace(parameters=kept)  # type: ignore[attr-defined]
    return endpoint_with_use_cases


def _check_makes(provider: str, annotated: type, endpoint: Callable[..., Any]) -> None:
    made = getattr(Container.providers[provider], "cls", None)  # a Singleton's class (None: a Dependency)
    if isinstance(made, type) and not issubclass(made, annotated):
        raise TypeError(f"{endpoint.__qualname__}: provider {provider!r} makes {made.__name__}, "
                        f"not {annotated.__name__}")


RegisterUserCase = Annotated[RegisterUser, UseCase("register_user")]
LogInCase = Annotated[LogIn, UseCase("log_in")]
RotateRefreshTokenCase = Annotated[RotateRefreshToken, UseCase("rotate_refresh_token")]
LogOutCase = Annotated[LogOut, UseCase("log_out")]
LogOutEverywhereCase = Annotated[LogOutEverywhere, UseCase("log_out_everywhere")]
ListSessionsCase = Annotated[ListSessions, UseCase("list_sessions")]
EndSessionCase = Annotated[EndSession, UseCase("end_session")]
GetProfileCase = Annotated[GetProfile, UseCase("get_profile")]
UpdateProfileCase = Annotated[UpdateProfile, UseCase("update_profile")]
ChangePasswordCase = Annotated[ChangePassword, UseCase("change_password")]
CreateItemCase = Annotated[CreateItem, UseCase("create_item")]
ListItemsCase = Annotated[ListItems, UseCase("list_items")]
GetItemCase = Annotated[GetItem, UseCase("get_item")]
UpdateItemCase = Annotated[UpdateItem, UseCase("update_item")]
DeleteItemCase = Annotated[DeleteItem, UseCase("delete_item")]
RequestPasswordResetCase = Annotated[RequestPasswordReset, UseCase("request_password_reset")]
ResetPasswordCase = Annotated[ResetPassword, UseCase("reset_password")]
ResendVerificationCase = Annotated[ResendVerification, UseCase("resend_verification")]
ConfirmEmailCase = Annotated[ConfirmEmail, UseCase("confirm_email")]
ChangeEmailCase = Annotated[ChangeEmail, UseCase("change_email")]
DeleteAccountCase = Annotated[DeleteAccount, UseCase("delete_account")]
ListSecurityEventsCase = Annotated[ListSecurityEvents, UseCase("list_security_events")]
ListUsersCase = Annotated[ListUsers, UseCase("list_users")]
GetUserCase = Annotated[GetUser, UseCase("get_user")]
UpdateUserCase = Annotated[UpdateUser, UseCase("update_user")]
DisableUserCase = Annotated[DisableUser, UseCase("disable_user")]
EnableUserCase = Annotated[EnableUser, UseCase("enable_user")]
ListUserSessionsCase = Annotated[ListUserSessions, UseCase("list_user_sessions")]
EndUserSessionsCase = Annotated[EndUserSessions, UseCase("end_user_sessions")]
SendPasswordResetCase = Annotated[SendPasswordReset, UseCase("send_password_reset")]
DeleteUserCase = Annotated[DeleteUser, UseCase("delete_user")]
SearchSecurityEventsCase = Annotated[SearchSecurityEvents, UseCase("search_security_events")]
IntrospectTokenCase = Annotated[IntrospectToken, UseCase("introspect_token")]
SendMessageCase = Annotated[SendMessage, UseCase("send_message")]
ListNotificationsCase = Annotated[ListNotifications, UseCase("list_notifications")]
DatabaseProbeDep = Annotated[DatabaseProbe, UseCase("database_probe")]
RateLimitsDep = Annotated[RateLimits, UseCase("rate_limits")]
KeyRingDep = Annotated[KeyRing, UseCase("keyring")]
SettingsDep = Annotated[Settings, UseCase("settings")]
RotateBrowserRefreshTokenCase = Annotated[RotateRefreshToken, UseCase("rotate_browser_refresh_token")]
ReadBrowserSessionCase = Annotated[ReadBrowserSession, UseCase("read_browser_session")]
SessionOfRefreshTokenCase = Annotated[SessionOfRefreshToken, UseCase("session_of_refresh_token")]
