"""The Depends chain, written once: bearer token → verified claims → live session; the container."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from api.container import Container
from application.dto import ClientInfo
from domain.errors import NotAuthenticated
from domain.tokens import Principal


def container_of(request: Request) -> Container:
    return cast(Container, request.app.state.container)


async def _container(request: Request) -> Container:
    # async def on purpose: FastAPI runs a plain `def` dependency in its threadpool, and that hop
    # (two thread switches per request) costs far more than this attribute lookup.
    return container_of(request)


ContainerDep = Annotated[Container, Depends(_container)]


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
                      user_agent=agent[:512] if agent else None)


ClientDep = Annotated[ClientInfo, Depends(client_info)]
