from __future__ import annotations

from application.unit_of_work import UnitOfWorkFactory
from domain.errors import Forbidden
from domain.tokens import Principal
from domain.user import User


class RequireAdmin:
    """The caller holds `admin` now: read from the store on every /admin request (never the token's `roles`,
    never a cache), so a demotion or a disable is refused from the next request on, on every worker."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def execute(self, principal: Principal) -> User:
        async with self._uow(autocommit=True) as uow:
            user = await uow.users.get(principal.user_id)
        if user is None or not user.is_active_admin:
            raise Forbidden("This needs the admin role")
        return user
