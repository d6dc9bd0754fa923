from __future__ import annotations

from dataclasses import dataclass

from application.authenticate import Authenticate
from application.unit_of_work import UnitOfWorkFactory
from domain.errors import InvalidClient, InvalidToken
from domain.ports import ServiceClientLookup
from domain.service_clients import MAX_CLIENT_ID_LENGTH, ServiceClient
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
    copies; the client from a copy at most a second old. Why: docs/adr/0007-introspection-and-service-clients.md.
    """

    def __init__(self, clients: ServiceClientLookup, authenticate: Authenticate, uow: UnitOfWorkFactory) -> None:
        self._clients = clients
        self._authenticate = authenticate  # the bearer chain's own checks, not a copy of them
        self._uow = uow

    async def authenticate(self, client_id: str, secret: str) -> ServiceClient:
        client = await self._clients.find(client_id) if client_id and len(client_id) <= MAX_CLIENT_ID_LENGTH else None
        if client is None or not client.admits(secret):
            raise InvalidClient("Unknown client or wrong secret")
        return client

    async def execute(self, token: str) -> Introspection | None:
        """Asked by a client `authenticate` has admitted (the route calls it first)."""
        try:
            claims = await self._authenticate.live_claims(token)
        except InvalidToken:
            return None
        async with self._uow(autocommit=True) as uow:
            user = await uow.users.get_profile(claims.subject)
        if user is None or not user.is_active:
            return None
        return Introspection(claims, user.roles)
