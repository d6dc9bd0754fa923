from __future__ import annotations

from datetime import datetime

from application.security_log import SecurityLog
from application.token_minting import AccessTokenMinter
from application.unit_of_work import UnitOfWork, UnitOfWorkFactory
from domain.errors import InvalidRefreshToken
from domain.notifications import REUSE_MESSAGE, DeliveryPolicy, Notification, NotificationKind
from domain.observations import NO_METRICS, RefreshResult
from domain.ports import Clock, IdGenerator, Metrics, RefreshTokenFactory, SessionActivity
from domain.security_events import Actor, SecurityEventType
from domain.session import Presented, RevocationReason, Session, SessionPolicy, policy_for
from domain.tokens import MAX_REFRESH_TOKEN_LENGTH, IssuedTokens, TokenDigest


class RotateRefreshToken:
    """Spend a refresh token for a new pair. A spent token presented again revokes its whole session.

    The spend is one race-free statement (SessionRepository.rotate). Only when it finds nothing to
    spend is the session read, and `Session.judge` says why: a retry inside the grace window gets the
    same successor again, a reused token ends the session and tells its user, anything else is refused.
    """

    def __init__(self, uow: UnitOfWorkFactory, minter: AccessTokenMinter, token_factory: RefreshTokenFactory,
                 activity: SessionActivity, clock: Clock, ids: IdGenerator, policy: SessionPolicy,
                 delivery: DeliveryPolicy, log: SecurityLog, browser_policy: SessionPolicy | None = None,
                 metrics: Metrics = NO_METRICS) -> None:
        self._uow = uow
        self._metrics = metrics
        self._log = log
        self._minter = minter
        self._token_factory = token_factory
        self._activity = activity
        self._clock = clock
        self._ids = ids
        self._policy = policy
        # at /auth/browser/refresh: the browser grace window, for browser sessions' tokens only (policy_for)
        self._browser_policy = browser_policy
        self._delivery = delivery

    async def execute(self, refresh_token: str) -> IssuedTokens:
        if not refresh_token or len(refresh_token) > MAX_REFRESH_TOKEN_LENGTH:
            self._metrics.refresh(RefreshResult.INVALID)
            raise InvalidRefreshToken()
        presented = TokenDigest.of(refresh_token)
        successor = self._token_factory.successor(refresh_token)
        now = self._clock.now()
        # One statement, safe on its own: no BEGIN/COMMIT (the asyncpg pool on Postgres).
        async with self._uow(autocommit=True) as uow:
            rotated = await uow.sessions.rotate(presented, TokenDigest.of(successor), now,
                                                self._policy.idle_cutoff(now))
        if rotated is not None:
            session, roles = rotated
            self._metrics.refresh(RefreshResult.ROTATED)
            return self._minter.mint(session, successor, now, roles)
        policy = self._policy if self._browser_policy is None else policy_for(
            refresh_token, self._policy, self._browser_policy)
        async with self._uow() as uow:
            return await self._not_spent(uow, presented, successor, now, policy)

    async def _not_spent(self, uow: UnitOfWork, presented: TokenDigest, successor: str,
                         now: datetime, policy: SessionPolicy) -> IssuedTokens:
        session = await uow.sessions.find_by_token(presented)
        if session is None:
            self._metrics.refresh(RefreshResult.INVALID)
            raise InvalidRefreshToken()
        verdict = session.judge(presented, TokenDigest.of(successor), now, policy)
        if verdict is Presented.GRACE_RETRY:  # two tabs at once: hand out the same successor
            await uow.sessions.touch(session.id, now)
            owner = await uow.users.get(session.user_id)
            await uow.commit()
            self._metrics.refresh(RefreshResult.GRACE_RETRY)
            return self._minter.mint(session, successor, now, owner.roles if owner else ())
        if verdict is Presented.REUSED:
            self._metrics.refresh(RefreshResult.REUSE_DETECTED)
            await self._revoke_for_reuse(uow, session, now)
        else:
            self._metrics.refresh(RefreshResult.INVALID)
        raise InvalidRefreshToken()

    async def _revoke_for_reuse(self, uow: UnitOfWork, session: Session, now: datetime) -> None:
        if not await uow.sessions.revoke(session.id, now, RevocationReason.REFRESH_TOKEN_REUSE):
            return  # someone else ended it first and told the user
        notification = Notification.queue(id=self._ids.new_id(), user_id=session.user_id,
                                          kind=NotificationKind.REFRESH_TOKEN_REUSE,
                                          message=REUSE_MESSAGE, now=now, lease=self._delivery.lease)
        await uow.notifications.add(notification)
        await uow.security_events.add(self._log.event(session.user_id, SecurityEventType.REFRESH_TOKEN_REUSE, now,
                                                      session_id=session.id, actor=Actor.SYSTEM))
        await uow.commit()  # the revocation must persist even though the request fails
        self._activity.forget([session.id])
