from __future__ import annotations

import logging
from datetime import datetime

from application.accounts import account_of
from application.dto import ClientInfo, LoginCommand
from application.passwords import limited_attempt
from application.security_log import SecurityLog
from application.token_minting import AccessTokenMinter
from application.unit_of_work import AfterResponse, UnitOfWorkFactory
from domain.errors import (
    AccountDisabled,
    CredentialsChanged,
    EmailNotVerified,
    InvalidCredentials,
    RateLimited,
    StorageUnavailable,
)
from domain.notifications import DeliveryPolicy, Notification, NotificationKind, login_message
from domain.observations import NO_METRICS, LoginResult
from domain.ports import (
    Clock,
    IdGenerator,
    Metrics,
    PasswordHasher,
    RateLimiter,
    RefreshTokenFactory,
    SessionActivity,
)
from domain.rate_limits import rate_limit_address
from domain.security_events import Actor, SecurityEventType
from domain.session import RevocationReason, Session, SessionPolicy
from domain.tokens import IssuedTokens, TokenDigest
from domain.user import MAX_PASSWORD_LENGTH, Email, User

log = logging.getLogger("gatehouse.login")
# How a refused login is counted (metrics), by the error it is refused with.
_REFUSALS: dict[type[Exception], LoginResult] = {
    InvalidCredentials: LoginResult.INVALID_CREDENTIALS, RateLimited: LoginResult.RATE_LIMITED,
    AccountDisabled: LoginResult.DISABLED, EmailNotVerified: LoginResult.UNVERIFIED}


class LogIn:
    """Password grant: verify credentials (rate limited per email and client IP), start a session.

    The security log gets `login_succeeded` in the session's own transaction; `login_failed` (a registered
    address, a wrong password) and `login_rate_limited` (once per lock-out: `lockouts` lets one notice
    through per key and window) change no state and are written after the response, so a registered
    address answers no slower than an unknown one.
    """

    def __init__(self, uow: UnitOfWorkFactory, hasher: PasswordHasher, limiter: RateLimiter,
                 minter: AccessTokenMinter, token_factory: RefreshTokenFactory, activity: SessionActivity,
                 clock: Clock, ids: IdGenerator, policy: SessionPolicy, delivery: DeliveryPolicy,
                 log: SecurityLog, after: AfterResponse, lockouts: RateLimiter, require_verified: bool = False,
                 metrics: Metrics = NO_METRICS) -> None:
        self._uow = uow
        self._metrics = metrics
        self._log = log
        self._after = after
        self._lockouts = lockouts
        self._require_verified = require_verified
        self._activity = activity
        self._hasher = hasher
        self._limiter = limiter
        self._minter = minter
        self._token_factory = token_factory
        self._clock = clock
        self._ids = ids
        self._policy = policy
        self._delivery = delivery

    async def execute(self, command: LoginCommand) -> IssuedTokens:
        try:
            issued = await self._log_in(command)
        except tuple(_REFUSALS) as refused:
            self._metrics.login(_REFUSALS[type(refused)])
            raise
        self._metrics.login(LoginResult.SUCCESS)
        return issued

    async def _log_in(self, command: LoginCommand) -> IssuedTokens:
        normalized = Email.normalize(command.email)
        # Counted per (email, client address), reserved before the verify: of any burst of guesses only
        # the limit's worth are checked at all; the others, a correct password too, are refused.
        key = f"{normalized}|{rate_limit_address(command.client.ip)}"
        found: list[User] = []
        try:
            user = await limited_attempt(self._limiter, key, lambda: self._verified_user(command, found))
        except RateLimited:
            self._after.defer(lambda: self._record_lockout(key, command))
            raise
        if user is None:
            if found:
                self._after.defer(lambda: self._record_failure(key, found[0], command.client))
            raise InvalidCredentials("Email or password is wrong")  # the reserved attempt stays counted
        if not user.is_active:  # only the correct password learns this: a wrong one got the answer above
            raise AccountDisabled("This account is disabled; ask an administrator")
        if self._require_verified and not user.email_verified:
            raise EmailNotVerified("Confirm your email address first: follow the link in the mail we sent")
        return await self._start_session(user, command)

    async def _verified_user(self, command: LoginCommand, found: list[User]) -> User | None:
        """The account, if the password is its password; the same work (one Argon2 verify) either way.
        An account found for the address goes into `found`."""
        password = command.password
        user = await self._find_user(command.email)
        if user is not None:
            found.append(user)
        if user is None or len(password) > MAX_PASSWORD_LENGTH:
            await self._hasher.verify_dummy(password[:MAX_PASSWORD_LENGTH])
            return None
        return user if await self._hasher.verify(user.password_hash, password) else None

    async def _record(self, user: User, type: SecurityEventType, client: ClientInfo,
                      actor: Actor = Actor.USER) -> None:
        async with self._uow(autocommit=True) as uow:
            await uow.security_events.add(self._log.event(user.id, type, self._clock.now(), client, actor=actor))

    async def _record_failure(self, key: str, user: User, client: ClientInfo) -> None:
        """A counted failure: the lock-out it may lead to is a new one, to be recorded once again."""
        await self._lockouts.reset(key)
        await self._record(user, SecurityEventType.LOGIN_FAILED, client)

    async def _record_lockout(self, key: str, command: LoginCommand) -> None:
        if await self._lockouts.reserve(key) is not None:
            return  # this lock-out is recorded already
        user = await self._find_user(command.email)
        if user is not None:
            await self._record(user, SecurityEventType.LOGIN_RATE_LIMITED, command.client, Actor.SYSTEM)

    async def _find_user(self, typed: str) -> User | None:
        async with self._uow(autocommit=True) as uow:
            return await account_of(uow, typed)

    async def _start_session(self, user: User, command: LoginCommand) -> IssuedTokens:
        new_hash = None
        if self._hasher.needs_rehash(user.password_hash):
            new_hash = await self._hasher.hash(command.password)  # parameters changed: upgrade now
        refresh_token = self._token_factory.new_token(browser=command.browser)
        now = self._clock.now()
        session = Session.start(id=self._ids.new_id(), user_id=user.id, token=TokenDigest.of(refresh_token),
                                now=now, policy=self._policy, user_agent=command.client.user_agent,
                                ip=command.client.ip)
        notification = Notification.queue(id=self._ids.new_id(), user_id=user.id,
                                          kind=NotificationKind.NEW_LOGIN,
                                          message=login_message(command.client.ip,
                                                                command.client.user_agent),
                                          now=now, lease=self._delivery.lease)
        try:
            async with self._uow() as uow:
                # Only while the password just checked is still the password: a login that raced a password
                # change neither starts a session after it nor brings the old hash back.
                await uow.users.require_credentials(user.id, user.credential_version)
                await uow.sessions.add(session)
                if new_hash is not None:
                    user.rehash(new_hash)
                    await uow.users.rehash(user)
                await uow.notifications.add(notification, user)
                await uow.security_events.add(self._log.event(user.id, SecurityEventType.LOGIN_SUCCEEDED, now,
                                                              command.client, session_id=session.id))
                await uow.commit()
        except CredentialsChanged:
            raise InvalidCredentials("Email or password is wrong") from None
        try:
            await self._after_login(user, now)
        except StorageUnavailable:  # the session is committed: answer it; the next login applies the limit
            log.warning("could not record the last login or apply the session limit (storage unavailable)")
        return self._minter.mint(session, refresh_token, now, user.roles)

    async def _after_login(self, user: User, now: datetime) -> None:
        """The account's last login time, and at most `max_live_sessions` per user: the least recently used
        beyond end, each with its `session_ended` event (`actor: "system"`) in the same transaction. After
        the login's commit: the new session is the most recently used, so it stays, and the login's own
        held inserts stay one statement."""
        async with self._uow(autocommit=True) as uow:
            await uow.users.record_login(user.id, now)
            over = await uow.sessions.has_live_beyond(user.id, self._policy.max_live_sessions, now,
                                                      self._policy.idle_cutoff(now))
        if not over:  # most logins: one cheap read instead of a transaction (measured: docs/PERFORMANCE.md)
            return
        async with self._uow() as uow:
            ended = await uow.sessions.revoke_beyond(user.id, self._policy.max_live_sessions, now,
                                                     self._policy.idle_cutoff(now), RevocationReason.SESSION_LIMIT)
            for session_id in ended:
                await uow.security_events.add(self._log.event(user.id, SecurityEventType.SESSION_ENDED, now,
                                                              session_id=session_id, actor=Actor.SYSTEM))
            await uow.commit()
        self._activity.forget(ended)
