"""Every dependency a route declares: the bearer chain (token → verified claims → live session), the
client's address, and one `Annotated` alias per use case, so a route's signature says what it uses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar, cast

from dependency_injector import providers
from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from api.container import Container
from application.change_password import ChangePassword
from application.create_item import CreateItem
from application.delete_item import DeleteItem
from application.dto import ClientInfo
from application.end_session import EndSession
from application.get_item import GetItem
from application.get_profile import GetProfile
from application.list_items import ListItems
from application.list_notifications import ListNotifications
from application.list_sessions import ListSessions
from application.log_in import LogIn
from application.log_out import LogOut
from application.log_out_everywhere import LogOutEverywhere
from application.register_user import RegisterUser
from application.rotate_refresh_token import RotateRefreshToken
from application.send_message import SendMessage
from application.update_item import UpdateItem
from application.update_profile import UpdateProfile
from domain.errors import NotAuthenticated
from domain.session import MAX_USER_AGENT_LENGTH
from domain.tokens import Principal
from infrastructure.db.probe import DatabaseProbe
from infrastructure.security.keys import KeyRing
from infrastructure.settings import Settings


def container_of(request: Request) -> Container:
    return cast(Container, request.app.state.container)


class BearerPrincipal(OAuth2PasswordBearer):
    """The bearer token → verified claims → live session, as one dependency.

    Being an OAuth2PasswordBearer, it gives Swagger UI its *Authorize* button (password flow against
    /auth/token) and documents the security requirement of every route that uses it; resolving the
    principal in the same call, instead of chaining scheme → container → principal, saves FastAPI
    two dependency resolutions on every authenticated request (measured: `/users/me`, docs/PERFORMANCE.md).
    async def: verification is a few microseconds of CPU (usually a cache hit); a threadpool hop
    would cost more than the work.
    """

    async def __call__(self, request: Request) -> Principal:  # type: ignore[override]
        token = await super().__call__(request)
        if not token:
            raise NotAuthenticated("A bearer access token is required")
        return await container_of(request).authenticate().execute(token)


bearer_principal = BearerPrincipal(tokenUrl="/auth/token", auto_error=False, scheme_name="OAuth2PasswordBearer",
                                   description="Log in with your email as the username")
CurrentPrincipal = Annotated[Principal, Depends(bearer_principal)]


async def client_info(request: Request) -> ClientInfo:  # async def: no threadpool hop (see above)
    agent = request.headers.get("user-agent")
    return ClientInfo(ip=request.client.host if request.client else None,
                      user_agent=agent[:MAX_USER_AGENT_LENGTH] if agent else None)


ClientDep = Annotated[ClientInfo, Depends(client_info)]


T = TypeVar("T")


def provided(pick: Callable[[Container], providers.Provider[T]]) -> Any:
    """`Depends` on what `pick` names in the request's container: the single instance of a use case
    (they hold no per-request state) or an adapter. An `async def` taking only the request, so FastAPI
    calls it on the event loop, without a threadpool hop."""

    async def resolve(request: Request) -> T:
        return pick(container_of(request))()

    return Depends(resolve)


RegisterUserCase = Annotated[RegisterUser, provided(lambda c: c.register_user)]
LogInCase = Annotated[LogIn, provided(lambda c: c.log_in)]
RotateRefreshTokenCase = Annotated[RotateRefreshToken, provided(lambda c: c.rotate_refresh_token)]
LogOutCase = Annotated[LogOut, provided(lambda c: c.log_out)]
LogOutEverywhereCase = Annotated[LogOutEverywhere, provided(lambda c: c.log_out_everywhere)]
ListSessionsCase = Annotated[ListSessions, provided(lambda c: c.list_sessions)]
EndSessionCase = Annotated[EndSession, provided(lambda c: c.end_session)]
GetProfileCase = Annotated[GetProfile, provided(lambda c: c.get_profile)]
UpdateProfileCase = Annotated[UpdateProfile, provided(lambda c: c.update_profile)]
ChangePasswordCase = Annotated[ChangePassword, provided(lambda c: c.change_password)]
CreateItemCase = Annotated[CreateItem, provided(lambda c: c.create_item)]
ListItemsCase = Annotated[ListItems, provided(lambda c: c.list_items)]
GetItemCase = Annotated[GetItem, provided(lambda c: c.get_item)]
UpdateItemCase = Annotated[UpdateItem, provided(lambda c: c.update_item)]
DeleteItemCase = Annotated[DeleteItem, provided(lambda c: c.delete_item)]
SendMessageCase = Annotated[SendMessage, provided(lambda c: c.send_message)]
ListNotificationsCase = Annotated[ListNotifications, provided(lambda c: c.list_notifications)]
DatabaseProbeDep = Annotated[DatabaseProbe, provided(lambda c: c.database_probe)]
KeyRingDep = Annotated[KeyRing, provided(lambda c: c.keyring)]
SettingsDep = Annotated[Settings, provided(lambda c: c.settings)]
