"""The Depends chain, written once: container → bearer token → verified claims → live session."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from api.container import Container
from application.dto import ClientInfo
from domain.errors import NotAuthenticated
from domain.tokens import Principal

# Gives Swagger UI its *Authorize* button (password flow against /auth/token) and extracts the token.
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False,
                                     description="Log in with your email as the username")


async def _container(request: Request) -> Container:
    # async def on purpose: FastAPI runs a plain `def` dependency in its threadpool, and that hop
    # (two thread switches per request) costs far more than this attribute lookup.
    return cast(Container, request.app.state.container)


ContainerDep = Annotated[Container, Depends(_container)]


async def _principal(token: Annotated[str | None, Depends(oauth2_scheme)], c: ContainerDep) -> Principal:
    # async def: verification is a few microseconds of CPU (and usually a cache hit); a threadpool
    # hop would cost more than the work.
    if not token:
        raise NotAuthenticated("A bearer access token is required")
    return await c.authenticate().execute(token)


CurrentPrincipal = Annotated[Principal, Depends(_principal)]


async def client_info(request: Request) -> ClientInfo:  # async def: no threadpool hop (see above)
    agent = request.headers.get("user-agent")
    return ClientInfo(ip=request.client.host if request.client else None,
                      user_agent=agent[:512] if agent else None)


ClientDep = Annotated[ClientInfo, Depends(client_info)]
