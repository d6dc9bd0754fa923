"""Ports: what the domain and use cases need from the outside world. Adapters live in infrastructure."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol
from uuid import UUID

from domain.account_tokens import AccountToken, AccountTokenKind
from domain.administration import EventFilter, UserFilter
from domain.items import Item, Page
from domain.notifications import Notification, NotificationKind, Recipient
from domain.observations import DeliveryOutcome, LoginResult, RateLimit, RefreshResult, VerificationResult
from domain.paging import Position
from domain.retention import Purgeable
from domain.security_events import SecurityEvent
from domain.service_clients import ServiceClient
from domain.session import RevocationReason, Session
from domain.tokens import AccessTokenClaims, TokenDigest
from domain.user import Email, PasswordHash, User


class Clock(Protocol):
    def now(self) -> datetime: ...


class IdGenerator(Protocol):
    def new_id(self) -> UUID: ...


class UserRepository(Protocol):
    async def get(self, user_id: UUID) -> User | None: ...
    async def get_profile(self, user_id: UUID) -> User | None:
        """The account for display only: may come from a cache that drops a row as soon as it changes."""

    async def get_by_email(self, email: Email) -> User | None: ...
    async def add(self, user: User) -> None: ...  # raises EmailTaken
    async def rename(self, user: User) -> None:
        """Write the full name (and update time) only: a concurrent change of other fields stays."""

    async def change_password(self, user: User, expected_version: int) -> bool:
        """Write the new hash and credential version, if the stored version is still `expected_version`
        (else False, nothing written). Waits for units of work that hold the old version (below)."""

    async def rehash(self, user: User) -> None:
        """Write a stronger hash of the same password, unless the password changed since it was read."""

    async def require_credentials(self, user_id: UUID, version: int) -> None:
        """This unit of work writes nothing unless the user's credential version is `version` when it
        commits, and no password change can commit in between: else its commit raises
        CredentialsChanged (or this call does, when the unit of work is already writing)."""

    async def mark_verified(self, user_id: UUID, email: Email) -> bool:
        """Mark the address proven, if it is still the account's address (else False)."""

    async def change_email(self, user: User) -> None:
        """Write the new (proven) address; raises EmailTaken when another account has it."""

    async def delete(self, user_id: UUID) -> bool:
        """Delete the account and everything it owns (not its security events)."""

    async def set_roles(self, user: User) -> None:
        """Write the roles (and update time) only."""

    async def set_status(self, user: User) -> None:
        """Write the status and its reason (and update time) only."""

    async def record_login(self, user_id: UUID, now: datetime) -> None: ...

    async def hold_admins(self) -> None:
        """Until this unit of work ends, no other unit of work that holds them can commit: the units of work
        that may take an active admin away take this first, then read and count (`last_admin`)."""

    async def count_active_admins(self, besides: UUID) -> int:
        """How many active accounts other than `besides` hold `admin`."""

    async def page(self, which: UserFilter, limit: int, after: Position | None) -> list[User]:
        """Accounts matching `which`, oldest first by (created_at, id), strictly after `after`."""


class SessionRepository(Protocol):
    async def add(self, session: Session) -> None: ...
    async def get(self, session_id: UUID) -> Session | None: ...
    async def find_by_token(self, digest: TokenDigest) -> Session | None:
        """The session a refresh token (current or spent) belongs to."""

    async def rotate(
        self, presented: TokenDigest, successor: TokenDigest, now: datetime, idle_cutoff: datetime
    ) -> tuple[Session, tuple[str, ...]] | None:
        """Atomically spend `presented` if it is the live token of an unrevoked, unexpired session; the
        session, with its user's roles as they are now.

        Exactly one of any number of concurrent calls with the same token succeeds.
        """

    async def touch(self, session_id: UUID, now: datetime) -> None: ...
    async def revoke(self, session_id: UUID, now: datetime, reason: RevocationReason) -> bool: ...
    async def revoke_all_of_user(
        self, user_id: UUID, now: datetime, reason: RevocationReason, keep: UUID | None = None
    ) -> list[UUID]: ...
    async def list_active(self, user_id: UUID, now: datetime, idle_cutoff: datetime) -> list[Session]: ...
    async def has_live_beyond(self, user_id: UUID, keep: int, now: datetime, idle_cutoff: datetime) -> bool:
        """Whether the user has more than `keep` live sessions."""

    async def revoke_beyond(self, user_id: UUID, keep: int, now: datetime, idle_cutoff: datetime,
                            reason: RevocationReason) -> list[UUID]:
        """End the user's live sessions but the `keep` most recently used; the ids of those ended."""


class AccountTokenRepository(Protocol):
    async def replace(self, token: AccountToken) -> None:
        """Store `token`, voiding the user's unspent tokens of its kind."""

    async def find_usable(self, digest: TokenDigest, kind: AccountTokenKind, now: datetime) -> AccountToken | None:
        """The token if it could be spent now (unspent, unexpired, of this kind); spends nothing."""

    async def spend(self, digest: TokenDigest, kind: AccountTokenKind, now: datetime) -> AccountToken | None:
        """Spend it if it is unspent and unexpired (one statement: of concurrent spends, one wins)."""

    async def void(self, user_id: UUID, kind: AccountTokenKind, now: datetime) -> None: ...
    async def void_all(self, user_id: UUID, now: datetime) -> None:
        """Every outstanding link of the user, of both kinds: after a change of credentials nothing the old
        ones approved (a pending change of address, above all) may still be confirmed."""


class SecurityEventRepository(Protocol):
    async def add(self, event: SecurityEvent) -> None: ...
    async def page(self, user_id: UUID, limit: int, after: Position | None) -> list[SecurityEvent]:
        """The user's events newest first, strictly after `after` (keyset paging)."""

    async def page_all(self, which: EventFilter, limit: int, after: Position | None) -> list[SecurityEvent]:
        """Everyone's events matching `which`, newest first, strictly after `after`."""


class ServiceClientRepository(Protocol):
    async def add(self, client: ServiceClient) -> None:
        """Store it; raises ClientNameTaken when another client has its name."""

    async def get(self, client_id: str) -> ServiceClient | None: ...
    async def list_all(self) -> list[ServiceClient]:
        """Every client, oldest first."""

    async def delete(self, client_id: str) -> bool: ...


class ServiceClientLookup(Protocol):
    """Finds the client a request authenticates as, on every introspection: may answer from a copy at most one
    second old (a deleted client is refused within a second, on every worker)."""

    async def find(self, client_id: str) -> ServiceClient | None: ...


class ItemRepository(Protocol):
    async def add(self, item: Item) -> None: ...
    async def get_owned(self, item_id: UUID, owner_id: UUID) -> Item | None: ...
    async def update(self, item: Item) -> None: ...
    async def delete_owned(self, item_id: UUID, owner_id: UUID) -> bool: ...
    async def page(self, owner_id: UUID, limit: int, offset: int) -> Page[Item]: ...


class NotificationRepository(Protocol):
    async def add(self, notification: Notification, account: User | None = None) -> None:
        """Record it; once committed, the unit of work hands it to delivery (with `account`, the account it
        goes to, when the caller has it: delivery then need not look its address up)."""

    async def list_for_user(self, user_id: UUID) -> list[Notification]: ...
    async def claim_for_delivery(self, notification_id: UUID, now: datetime, lease_until: datetime,
                                 held_until: datetime | None = None) -> tuple[Notification, Recipient | None] | None:
        """Take one queued notification whose lease is free, with the recipient's address (None: the
        account no longer exists); None when someone else holds it or it is done.

        With `held_until`, the caller's own claim (the lease it holds ends exactly then) is renewed
        instead, without counting another attempt."""

    async def claim_stale(self, created_before: datetime, now: datetime, lease_until: datetime,
                          limit: int) -> list[Notification]:
        """Take queued notifications left behind (older than `created_before`, lease free)."""

    async def mark_delivered(self, notification_id: UUID, now: datetime) -> None: ...
    async def mark_withheld(self, notification_id: UUID) -> None:
        """Final: its address is unproven and it is not a kind such an address gets."""

    async def mark_attempt_failed(self, notification_id: UUID, error: str, final: bool,
                                  retry_at: datetime) -> None: ...
    async def recipient(self, notification_id: UUID) -> Recipient | None: ...


class PasswordHasher(Protocol):
    """Slow by design; adapters keep the work off the event loop."""

    async def hash(self, password: str) -> PasswordHash: ...
    async def verify(self, stored: PasswordHash, password: str) -> bool: ...
    async def verify_dummy(self, password: str) -> None:
        """Spend one verification's time and memory for an unknown account, so timing reveals nothing."""

    def needs_rehash(self, stored: PasswordHash) -> bool: ...


class CommonPasswords(Protocol):
    def is_common(self, password: str) -> bool: ...


class AccessTokenSigner(Protocol):
    def issue(self, claims: AccessTokenClaims) -> str: ...
    def verify(self, token: str) -> AccessTokenClaims:
        """Raises InvalidToken for any failed check (an expiry past the configured leeway included)."""


class RefreshTokenFactory(Protocol):
    def new_token(self, *, browser: bool = False) -> str:
        """A new session's first refresh token (`browser`: one held in cookies; it carries BROWSER_TOKEN_MARK)."""
    def successor(self, spent: str) -> str:
        """The token that replaces `spent` on rotation (marked as `spent` is)."""


class RateLimiter(Protocol):
    """At most `max` attempts per key in a window, however many arrive at once, across workers and hosts.

    An attempt is reserved atomically before it is made (so attempts in flight count: a password guess
    is reserved before the password is checked); `reset` clears a key's count (a correct password does)."""

    async def reserve(self, key: str) -> int | None:
        """Count one attempt if the key is under its limit (None); else the seconds until it is not."""

    async def reset(self, key: str) -> None: ...


class SessionActivity(Protocol):
    """Answers "is this session still live?" for every authenticated request, cheaply."""

    async def is_active(self, session_id: UUID, user_id: UUID, now: datetime) -> bool:
        """Whether the session is live and is `user_id`'s (a token's `sid` and `sub` must agree)."""

    def forget(self, session_ids: Iterable[UUID]) -> None:
        """Drop anything cached about these sessions (they were just revoked here)."""


class Notifier(Protocol):
    """Delivers one notification to its recipient (with its secret link, opened, if it has one); raises on
    failure. `mails_people`: whether it reaches real mailboxes (so unproven addresses get only the mail
    that proves them)."""

    mails_people: bool

    async def deliver(self, notification: Notification, recipient: Email, link: str | None = None) -> None: ...


class LinkSealer(Protocol):
    """Encrypts the secret link a notification carries until it is sent, under a key of the server's."""

    def seal(self, link: str) -> str: ...
    def open(self, sealed: str) -> str:
        """Raises ValueError when `sealed` was not sealed by this server's key."""


class ExpiredRecords(Protocol):
    """Deletes what the retention rules (domain/retention.py) let go of, a batch at a time."""

    async def purge(self, what: Purgeable, before: datetime, limit: int) -> int | None:
        """Delete at most `limit` records of `what` that may go as of the cut-off `before`, in one short
        transaction; how many went, or None when another worker is purging right now (this one yields)."""


class Metrics(Protocol):
    """Counts for operators (domain/observations.py: every label from a fixed set). Cheap, synchronous and
    never failing: a metric must not cost a request anything it notices."""

    def login(self, result: LoginResult) -> None: ...
    def refresh(self, result: RefreshResult) -> None: ...
    def token_verified(self, result: VerificationResult) -> None: ...
    def notification(self, kind: NotificationKind, outcome: DeliveryOutcome) -> None: ...
    def rate_limited(self, limit: RateLimit) -> None: ...
    def password_hashed(self, seconds: float) -> None:
        """One Argon2 hash or verify took this long (it may be called from a hashing thread)."""


class SecretTokens(Protocol):
    def new_token(self) -> str:
        """At least 256 bits from a CSPRNG, URL-safe."""
