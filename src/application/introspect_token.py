from __future__ import annotations

from dataclasses import dataclass

from application.unit_of_work import UnitOfWorkFactory
from domain.errors import InvalidClient, InvalidToken
from domain.ports import AccessTokenSigner, Clock, ServiceClientLookup, SessionActivity
from domain.service_clients import ServiceClient
from domain.tokens import AccessTokenClaims


@dataclass(frozen=True, slots=True)
class Introspection:
    """An active access token: its claims, and its user's roles as they are now (not as the token has them)."""

    claims: AccessTokenClaims
    roles: tuple[str, ...]


class IntrospectToken:
    """RFC 7662 for the deployment's service clients: is this access token one Gatehouse honours now?

    It is when it passes every check the bearer chain makes (signature, `typ`, expiry, issuer, audience: the
    signer) and its session is live (the session check's second across workers) and its user exists and is
    active. Anything else, refresh tokens included, is inactive, with nothing said about why. Repeated tokens
    stay off the database as `GET /users/me` does: the signer's, the session check's and the account cache's
    copies; the client from a copy at most a second old.
    """

    def __init__(self, clients: ServiceClientLookup, signer: AccessTokenSigner, activity: SessionActivity,
                 uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._clients = clients
        self._signer = signer
        self._activity = activity
        self._uow = uow
        self._clock = clock

    async def authenticate(self, client_id: str, secret: str) -> ServiceClient:
        client = await self._clients.find(client_id) if client_id else None
        if client is None or not client.admits(secret):
            raise InvalidClient("Unknown client or wrong secret")
        return client

    async def execute(self, token: str) -> Introspection | None:
        """Asked by a client `authenticate` has admitted (the route calls it first)."""
        try:
            claims = self._signer.verify(token)
        except InvalidToken:
            return None
        if not await self._activity.is_active(claims.session_id, claims.subject, self._clock.now()):
            return None
        async with self._uow(autocommit=True) as uow:
            user = await uow.users.get_profile(claims.subject)
        if user is None or not user.is_active:
            return None
        return Introspection(claims, user.roles)
