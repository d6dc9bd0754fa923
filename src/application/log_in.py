from __future__ import annotations

from datetime import datetime

from application.dto import LoginCommand
from application.passwords import limited_attempt
from application.token_minting import AccessTokenMinter
from application.unit_of_work import UnitOfWorkFactory
from domain.errors import CredentialsChanged, InvalidCredentials, InvalidEmail
from domain.notifications import DeliveryPolicy, Notification, NotificationKind, login_message
from domain.ports import Clock, IdGenerator, PasswordHasher, RateLimiter, RefreshTokenFactory, SessionActivity
from domain.rate_limits import rate_limit_address
from domain.session import RevocationReason, Session, SessionPolicy
from domain.tokens import IssuedTokens, TokenDigest
from domain.user import MAX_PASSWORD_LENGTH, Email, User


class LogIn:
    """Password grant: verify credentials (rate limited per email and client IP), start a session."""

    def __init__(self, uow: UnitOfWorkFactory, hasher: PasswordHasher, limiter: RateLimiter,
                 minter: AccessTokenMinter, token_factory: RefreshTokenFactory, activity: SessionActivity,
                 clock: Clock, ids: IdGenerator, policy: SessionPolicy, delivery: DeliveryPolicy) -> None:
        self._uow = uow
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
        normalized = Email.normalize(command.email)
        # Counted per (email, client address), reserved before the verify: of any burst of guesses only
        # the limit's worth are checked at all; the others, a correct password too, are refused.
        key = f"{normalized}|{rate_limit_address(command.client.ip)}"
        user = await limited_attempt(self._limiter, key, lambda: self._verified_user(normalized, command))
        if user is None:
            raise InvalidCredentials("Email or password is wrong")  # the reserved attempt stays counted
        return await self._start_session(user, command)

    async def _verified_user(self, normalized: str, command: LoginCommand) -> User | None:
        """The account, if the password is its password; the same work (one Argon2 verify) either way."""
        password = command.password
        user = await self._find_user(normalized, command.email)
        if user is None or len(password) > MAX_PASSWORD_LENGTH:
            await self._hasher.verify_dummy(password[:MAX_PASSWORD_LENGTH])
            return None
        return user if await self._hasher.verify(user.password_hash, password) else None

    async def _find_user(self, normalized: str, typed: str) -> User | None:
        """The account of the address's one spelling; or, for an account left in its earlier spelling
        because it collided with another (domain/user.py), the account of exactly that spelling."""
        earlier = Email.earlier_spelling(typed)
        try:
            spellings = [Email(earlier)] if earlier != normalized else []
            spellings.append(Email(normalized))
        except InvalidEmail:
            return None
        async with self._uow(autocommit=True) as uow:
            for email in spellings:
                user = await uow.users.get_by_email(email)
                if user is not None:
                    return user
        return None

    async def _start_session(self, user: User, command: LoginCommand) -> IssuedTokens:
        new_hash = None
        if self._hasher.needs_rehash(user.password_hash):
            new_hash = await self._hasher.hash(command.password)  # parameters changed: upgrade now
        refresh_token = self._token_factory.new_token()
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
                await uow.notifications.add(notification, user.email)
                await uow.commit()
        except CredentialsChanged:
            raise InvalidCredentials("Email or password is wrong") from None
        await self._end_sessions_beyond_the_limit(user, now)
        return self._minter.mint(session, refresh_token, now)

    async def _end_sessions_beyond_the_limit(self, user: User, now: datetime) -> None:
        """At most `max_live_sessions` per user: the least recently used beyond end (after the commit, on
        its own: the new session is the most recently used, so it stays)."""
        async with self._uow(autocommit=True) as uow:
            ended = await uow.sessions.revoke_beyond(user.id, self._policy.max_live_sessions, now,
                                                     self._policy.idle_cutoff(now), RevocationReason.SESSION_LIMIT)
        self._activity.forget(ended)
