from __future__ import annotations

from application.account_links import AccountLinks
from application.accounts import account_of
from application.dto import ClientInfo
from application.security_log import SecurityLog
from application.unit_of_work import AfterResponse, UnitOfWorkFactory
from domain.errors import CredentialsChanged, RateLimited
from domain.ports import Clock, RateLimiter
from domain.rate_limits import rate_limit_address
from domain.security_events import SecurityEventType


class RequestPasswordReset:
    """Answer at once, the same for every address; look the address up and mail a link after the response.

    Only the per-client-address limit is decided before the answer (it depends on the client, not the
    address). The lookup, the per-address mail cap, the token and the outbox row come after the response,
    for registered and unknown addresses alike, so neither the answer nor its timing depends on them.
    """

    def __init__(self, uow: UnitOfWorkFactory, links: AccountLinks, log: SecurityLog, after: AfterResponse,
                 per_client: RateLimiter, per_address: RateLimiter, clock: Clock) -> None:
        self._uow = uow
        self._links = links
        self._log = log
        self._after = after
        self._per_client = per_client
        self._per_address = per_address
        self._clock = clock

    async def execute(self, email: str, client: ClientInfo) -> None:
        retry_after = await self._per_client.reserve(rate_limit_address(client.ip))
        if retry_after is not None:
            raise RateLimited(retry_after, "reset requests")
        self._after.defer(lambda: self._send(email, client))

    async def _send(self, typed: str, client: ClientInfo) -> None:
        async with self._uow(autocommit=True) as uow:
            user = await account_of(uow, typed)
        if user is None or not user.is_active:  # unknown or disabled: nothing is sent, as the contract says
            return
        if await self._per_address.reserve(user.email.value) is not None:
            return  # capped: nothing sent, nothing voided
        now = self._clock.now()
        try:
            async with self._uow() as uow:
                # Only while the account is as it was looked up: a disable (which voids every link) or a password
                # change that committed meanwhile leaves this link unissued.
                await uow.users.require_credentials(user.id, user.credential_version)
                await self._links.send_reset(uow, user, now)
                await uow.security_events.add(self._log.event(user.id, SecurityEventType.PASSWORD_RESET_REQUESTED,
                                                              now, client))
                await uow.commit()
        except CredentialsChanged:
            return
