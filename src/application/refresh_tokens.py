from __future__ import annotations

from datetime import datetime

from application.dto import TokenResult
from application.token_minting import AccessTokenMinter
from application.unit_of_work import UnitOfWork, UnitOfWorkFactory
from domain.errors import InvalidRefreshToken
from domain.notifications import REUSE_MESSAGE, DeliveryPolicy, Handoff, Notification, NotificationKind
from domain.ports import Clock, IdGenerator, RefreshTokenFactory, SessionActivity
from domain.session import Presented, RevocationReason, Session, SessionPolicy
from domain.tokens import TokenDigest

MAX_REFRESH_TOKEN_LENGTH = 512


class RefreshTokens:
    """Rotate a refresh token. A spent token presented again revokes its whole session."""

    def __init__(self, uow: UnitOfWorkFactory, minter: AccessTokenMinter,
                 refresh_tokens: RefreshTokenFactory, activity: SessionActivity, clock: Clock,
                 ids: IdGenerator, policy: SessionPolicy, delivery: DeliveryPolicy) -> None:
        self._uow = uow
        self._delivery = delivery
        self._minter = minter
        self._refresh_tokens = refresh_tokens
        self._activity = activity
        self._clock = clock
        self._ids = ids
        self._policy = policy

    async def execute(self, refresh_token: str) -> TokenResult:
        if not refresh_token or len(refresh_token) > MAX_REFRESH_TOKEN_LENGTH:
            raise InvalidRefreshToken()
        presented = TokenDigest.of(refresh_token)
        successor = self._refresh_tokens.successor(refresh_token)
        now = self._clock.now()
        # Fast path: the rotation is one race-free statement, safe on its own (no BEGIN/COMMIT).
        async with self._uow(autocommit=True) as uow:
            session = await uow.sessions.rotate(presented, TokenDigest.of(successor), now,
                                                self._policy.idle_cutoff(now))
        if session is not None:
            return TokenResult(self._minter.mint(session, successor, now))
        async with self._uow() as uow:
            return await self._not_rotated(uow, presented, successor, now)

    async def _not_rotated(self, uow: UnitOfWork, presented: TokenDigest, successor: str,
                           now: datetime) -> TokenResult:
        session = await uow.sessions.find_by_token(presented)
        if session is None:
            raise InvalidRefreshToken()
        verdict = session.judge(presented, now, self._policy)
        if verdict is Presented.GRACE_RETRY and TokenDigest.of(successor).matches(session.current_token):
            # A retry of the token just rotated (two tabs at once): hand out the same successor.
            await uow.sessions.touch(session.id, now)
            await uow.commit()
            return TokenResult(self._minter.mint(session, successor, now))
        if verdict is Presented.REUSED:
            await self._revoke_for_reuse(uow, session, now)
        # INACTIVE: already ended. CURRENT: lost a race with a concurrent change; GRACE_RETRY whose
        # successor no longer derives the same way (key changed): refuse without ending anything.
        raise InvalidRefreshToken()

    async def _revoke_for_reuse(self, uow: UnitOfWork, session: Session, now: datetime) -> None:
        if not await uow.sessions.revoke(session.id, now, RevocationReason.REFRESH_TOKEN_REUSE):
            return  # someone else ended it first and told the user
        notification = Notification.queue(id=self._ids.new_id(), user_id=session.user_id,
                                          kind=NotificationKind.REFRESH_TOKEN_REUSE,
                                          message=REUSE_MESSAGE, now=now, lease=self._delivery.lease)
        await uow.notifications.add(notification)
        await uow.commit()  # the revocation must persist even though the request fails
        self._activity.forget([session.id])
        error = InvalidRefreshToken()
        error.pending_notifications = (Handoff(notification),)
        raise error
