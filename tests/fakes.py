"""In-memory fakes of the ports, for unit tests of the domain and use cases (no I/O)."""

from __future__ import annotations

import copy
import itertools
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Self
from uuid import UUID

from application.unit_of_work import AfterResponse, DeliveryQueue, Job
from domain.account_tokens import AccountToken, AccountTokenKind
from domain.administration import EventFilter, UserFilter
from domain.errors import ClientNameTaken, CredentialsChanged, EmailTaken, InvalidToken
from domain.items import Item, Page
from domain.notifications import Handoff, Notification, NotificationStatus, Recipient
from domain.paging import Position
from domain.ports import (
    AccessTokenSigner,
    AccountTokenRepository,
    Clock,
    CommonPasswords,
    IdGenerator,
    ItemRepository,
    LinkSealer,
    NotificationRepository,
    Notifier,
    PasswordHasher,
    RateLimiter,
    RefreshTokenFactory,
    SecretTokens,
    SecurityEventRepository,
    ServiceClientRepository,
    SessionActivity,
    SessionRepository,
    UserRepository,
)
from domain.security_events import SecurityEvent
from domain.service_clients import ServiceClient
from domain.session import BROWSER_TOKEN_MARK, RevocationReason, Session, SessionPolicy, is_browser_token
from domain.tokens import AccessTokenClaims, TokenDigest
from domain.user import Email, PasswordHash, User

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


class FakeClock(Clock):
    def __init__(self, now: datetime = T0) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> None:
        self._now += timedelta(**delta)


class SequentialIds(IdGenerator):
    def __init__(self) -> None:
        self._counter = itertools.count(1)

    def new_id(self) -> UUID:
        return UUID(int=next(self._counter), version=4)


class FakeHasher(PasswordHasher):
    """Reversible 'hash' marking the parameters used, so rehash-on-login can be tested."""

    def __init__(self, version: str = "v1") -> None:
        self.version = version
        self.dummy_verifications = 0
        self.while_verifying: Callable[[], Awaitable[None]] | None = None  # run once, inside the next verify

    async def hash(self, password: str) -> PasswordHash:
        return PasswordHash(f"fake${self.version}${password}")

    async def verify(self, stored: PasswordHash, password: str) -> bool:
        hook, self.while_verifying = self.while_verifying, None
        if hook is not None:
            await hook()
        return stored.value.split("$", 2)[2] == password

    async def verify_dummy(self, password: str) -> None:
        self.dummy_verifications += 1

    def needs_rehash(self, stored: PasswordHash) -> bool:
        return stored.value.split("$", 2)[1] != self.version


class FakeCommonPasswords(CommonPasswords):
    def __init__(self, *common: str) -> None:
        self._common = {p.lower() for p in (common or ("password123", "qwertyuiop"))}

    def is_common(self, password: str) -> bool:
        return password.lower() in self._common


class FakeSigner(AccessTokenSigner):
    """Tokens are opaque handles to claims kept in memory."""

    def __init__(self, clock: FakeClock) -> None:
        self._clock = clock
        self._issued: dict[str, AccessTokenClaims] = {}

    def issue(self, claims: AccessTokenClaims) -> str:
        token = f"h.{uuid.uuid4().hex}.s"
        self._issued[token] = claims
        return token

    def verify(self, token: str) -> AccessTokenClaims:
        claims = self.claims_of(token)
        if claims.expires_at <= self._clock.now():
            raise InvalidToken()
        return claims

    def claims_of(self, token: str) -> AccessTokenClaims:
        """What a token it issued says, expired or not (for assertions)."""
        claims = self._issued.get(token)
        if claims is None:
            raise InvalidToken()
        return claims


class CountingRefreshTokens(RefreshTokenFactory):
    def __init__(self, derive: bool = False) -> None:
        self._n = itertools.count(1)
        self._derive = derive

    def new_token(self, *, browser: bool = False) -> str:
        return f"{BROWSER_TOKEN_MARK if browser else ''}rt-{next(self._n)}"

    def successor(self, spent: str) -> str:
        return f"{spent}+" if self._derive else self.new_token(browser=is_browser_token(spent))


class FakeRateLimiter(RateLimiter):
    """Counts reservations per key, as the real ones do: the limit's worth, then refusals."""

    def __init__(self, max_hits: int = 5) -> None:
        self.max = max_hits
        self.failures: dict[str, int] = {}

    async def reserve(self, key: str) -> int | None:
        if self.failures.get(key, 0) >= self.max:
            return 60
        self.failures[key] = self.failures.get(key, 0) + 1
        return None

    async def reset(self, key: str) -> None:
        self.failures.pop(key, None)


class FakeNotifier(Notifier):
    def __init__(self, fail_times: int = 0, mails_people: bool = True) -> None:
        self.sent: list[tuple[Notification, Email]] = []
        self.links: list[str | None] = []
        self.fail_times = fail_times
        self.mails_people = mails_people

    async def deliver(self, notification: Notification, recipient: Email, link: str | None = None) -> None:
        if self.fail_times > 0:
            self.fail_times -= 1
            raise ConnectionError("mail server said no")
        self.sent.append((notification, recipient))
        self.links.append(link)


class ReversibleSealer(LinkSealer):
    """Seals by prefixing (tests read what was sealed); opens only what it sealed."""

    def seal(self, link: str) -> str:
        return f"sealed:{link[::-1]}"

    def open(self, sealed: str) -> str:
        if not sealed.startswith("sealed:"):
            raise ValueError("not sealed here")
        return sealed.removeprefix("sealed:")[::-1]


class CountingSecrets(SecretTokens):
    def __init__(self) -> None:
        self._n = itertools.count(1)

    def new_token(self) -> str:
        return f"secret-{next(self._n)}"


class InMemoryStore:
    def __init__(self) -> None:
        self.users: dict[UUID, User] = {}
        self.sessions: dict[UUID, Session] = {}
        self.tokens: dict[str, UUID] = {}
        self.items: dict[UUID, Item] = {}
        self.notifications: dict[UUID, Notification] = {}
        self.leases: dict[UUID, datetime | None] = {}
        self.account_tokens: dict[str, tuple[AccountToken, datetime | None]] = {}  # digest → (token, spent_at)
        self.events: list[SecurityEvent] = []
        self.admins_held = 0
        self.clients: dict[str, ServiceClient] = {}


class InMemoryUsers(UserRepository):
    def __init__(self, store: InMemoryStore) -> None:
        self._s = store

    async def get(self, user_id: UUID) -> User | None:
        return copy.deepcopy(self._s.users.get(user_id))

    async def get_profile(self, user_id: UUID) -> User | None:
        return await self.get(user_id)

    async def get_by_email(self, email: Email) -> User | None:
        return next((copy.deepcopy(u) for u in self._s.users.values() if u.email == email), None)

    async def add(self, user: User) -> None:
        if any(u.email == user.email for u in self._s.users.values()):
            raise EmailTaken()
        self._s.users[user.id] = copy.deepcopy(user)

    async def rename(self, user: User) -> None:
        stored = self._s.users[user.id]
        stored.full_name, stored.updated_at = user.full_name, user.updated_at

    async def change_password(self, user: User, expected_version: int) -> bool:
        stored = self._s.users[user.id]
        if stored.credential_version != expected_version:
            return False
        stored.password_hash, stored.credential_version = user.password_hash, user.credential_version
        stored.updated_at = user.updated_at
        return True

    async def rehash(self, user: User) -> None:
        stored = self._s.users[user.id]
        if stored.credential_version == user.credential_version:
            stored.password_hash = user.password_hash

    async def require_credentials(self, user_id: UUID, version: int) -> None:
        stored = self._s.users.get(user_id)
        if stored is None or stored.credential_version != version or not stored.is_active:
            raise CredentialsChanged()

    async def mark_verified(self, user_id: UUID, email: Email) -> bool:
        stored = self._s.users.get(user_id)
        if stored is None or stored.email != email:
            return False
        stored.email_verified = True
        return True

    async def change_email(self, user: User) -> None:
        if any(u.email == user.email and u.id != user.id for u in self._s.users.values()):
            raise EmailTaken()
        stored = self._s.users[user.id]
        stored.email, stored.email_verified, stored.updated_at = user.email, user.email_verified, user.updated_at

    async def delete(self, user_id: UUID) -> bool:
        if self._s.users.pop(user_id, None) is None:
            return False
        for sid in [k for k, v in self._s.sessions.items() if v.user_id == user_id]:
            del self._s.sessions[sid]
        for nid in [k for k, v in self._s.notifications.items() if v.user_id == user_id]:
            del self._s.notifications[nid]
        for key in [k for k, i in self._s.items.items() if i.owner_id == user_id]:
            del self._s.items[key]
        for digest in [k for k, (t, _) in self._s.account_tokens.items() if t.user_id == user_id]:
            del self._s.account_tokens[digest]
        return True

    async def set_roles(self, user: User) -> None:
        stored = self._s.users[user.id]
        stored.roles, stored.updated_at = user.roles, user.updated_at

    async def set_status(self, user: User) -> None:
        stored = self._s.users[user.id]
        stored.status, stored.disabled_reason, stored.updated_at = user.status, user.disabled_reason, user.updated_at

    async def record_login(self, user_id: UUID, now: datetime) -> None:
        self._s.users[user_id].last_login_at = now

    async def hold_admins(self) -> None:
        self._s.admins_held += 1  # one unit of work at a time here anyway; counted for the tests

    async def count_active_admins(self, besides: UUID) -> int:
        return sum(1 for u in self._s.users.values() if u.is_active_admin and u.id != besides)

    async def page(self, which: UserFilter, limit: int, after: Position | None) -> list[User]:
        found = sorted(self._s.users.values(), key=lambda u: (u.created_at, u.id))
        found = [u for u in found
                 if (which.email_contains is None or which.email_contains in u.email.value)
                 and (which.role is None or which.role in u.roles)
                 and (which.status is None or u.status is which.status)
                 and (which.verified is None or u.email_verified is which.verified)
                 and (after is None or (u.created_at, u.id) > (after.at, after.id))]
        return copy.deepcopy(found[:limit])


class InMemoryAccountTokens(AccountTokenRepository):
    def __init__(self, store: InMemoryStore) -> None:
        self._s = store

    async def replace(self, token: AccountToken) -> None:
        await self.void(token.user_id, token.kind, token.created_at)
        self._s.account_tokens[token.digest.value] = (token, None)

    async def find_usable(self, digest: TokenDigest, kind: AccountTokenKind, now: datetime) -> AccountToken | None:
        token, spent_at = self._s.account_tokens.get(digest.value, (None, None))
        usable = token is not None and token.kind is kind and spent_at is None and token.expires_at > now
        return token if usable else None

    async def spend(self, digest: TokenDigest, kind: AccountTokenKind, now: datetime) -> AccountToken | None:
        token = await self.find_usable(digest, kind, now)
        if token is not None:
            self._s.account_tokens[digest.value] = (token, now)
        return token

    async def void(self, user_id: UUID, kind: AccountTokenKind, now: datetime) -> None:
        for digest, (token, spent_at) in list(self._s.account_tokens.items()):
            if token.user_id == user_id and token.kind is kind and spent_at is None:
                self._s.account_tokens[digest] = (token, now)


    async def void_all(self, user_id: UUID, now: datetime) -> None:
        for kind in AccountTokenKind:
            await self.void(user_id, kind, now)


class InMemorySecurityEvents(SecurityEventRepository):
    def __init__(self, store: InMemoryStore) -> None:
        self._s = store

    async def add(self, event: SecurityEvent) -> None:
        self._s.events.append(event)

    async def page(self, user_id: UUID, limit: int, after: Position | None) -> list[SecurityEvent]:
        mine = sorted((e for e in self._s.events if e.user_id == user_id), key=lambda e: (e.at, e.id), reverse=True)
        if after is not None:
            mine = [e for e in mine if (e.at, e.id) < (after.at, after.id)]
        return mine[:limit]

    async def page_all(self, which: EventFilter, limit: int, after: Position | None) -> list[SecurityEvent]:
        found = sorted(self._s.events, key=lambda e: (e.at, e.id), reverse=True)
        found = [e for e in found
                 if (which.user_id is None or e.user_id == which.user_id)
                 and (which.type is None or e.type is which.type)
                 and (which.since is None or e.at >= which.since)
                 and (which.until is None or e.at < which.until)
                 and (after is None or (e.at, e.id) < (after.at, after.id))]
        return found[:limit]


class InMemorySessions(SessionRepository):
    def __init__(self, store: InMemoryStore, policy: SessionPolicy) -> None:
        self._s = store
        self._policy = policy

    async def add(self, session: Session) -> None:
        self._s.sessions[session.id] = copy.deepcopy(session)
        self._s.tokens[session.current_token.value] = session.id

    async def get(self, session_id: UUID) -> Session | None:
        return copy.deepcopy(self._s.sessions.get(session_id))

    async def find_by_token(self, digest: TokenDigest) -> Session | None:
        sid = self._s.tokens.get(digest.value)
        return copy.deepcopy(self._s.sessions[sid]) if sid else None

    async def rotate(self, presented: TokenDigest, successor: TokenDigest, now: datetime,
                     idle_cutoff: datetime) -> tuple[Session, tuple[str, ...]] | None:
        # What the SQL does (statements.ROTATION), with the liveness rule taken from the domain.
        assert idle_cutoff == self._policy.idle_cutoff(now), "callers pass the policy's idle cutoff"
        for session in self._s.sessions.values():
            if session.current_token == presented and session.is_active(now, self._policy):
                session.previous_token, session.current_token = session.current_token, successor
                session.rotated_at = session.last_used_at = now
                self._s.tokens[successor.value] = session.id
                owner = self._s.users.get(session.user_id)
                return copy.deepcopy(session), owner.roles if owner else ()
        return None

    async def touch(self, session_id: UUID, now: datetime) -> None:
        self._s.sessions[session_id].last_used_at = now

    async def revoke(self, session_id: UUID, now: datetime, reason: RevocationReason) -> bool:
        session = self._s.sessions.get(session_id)
        return session is not None and self._end(session, now, reason)

    async def revoke_all_of_user(self, user_id: UUID, now: datetime, reason: RevocationReason,
                                 keep: UUID | None = None) -> list[UUID]:
        return [s.id for s in self._s.sessions.values()
                if s.user_id == user_id and s.id != keep and self._end(s, now, reason)]

    @staticmethod
    def _end(session: Session, now: datetime, reason: RevocationReason) -> bool:
        if session.revoked_at is not None:  # like the SQL: only a session not yet revoked is ended
            return False
        session.revoked_at, session.revoked_reason = now, reason.value
        return True

    async def list_active(self, user_id: UUID, now: datetime, idle_cutoff: datetime) -> list[Session]:
        assert idle_cutoff == self._policy.idle_cutoff(now), "callers pass the policy's idle cutoff"
        live = [copy.deepcopy(s) for s in self._s.sessions.values()
                if s.user_id == user_id and s.is_active(now, self._policy)]
        return sorted(live, key=lambda s: (-s.last_used_at.timestamp(), s.id))

    async def has_live_beyond(self, user_id: UUID, keep: int, now: datetime, idle_cutoff: datetime) -> bool:
        return sum(1 for s in self._s.sessions.values()
                   if s.user_id == user_id and s.is_active(now, self._policy)) > keep

    async def revoke_beyond(self, user_id: UUID, keep: int, now: datetime, idle_cutoff: datetime,
                            reason: RevocationReason) -> list[UUID]:
        live = [s for s in self._s.sessions.values() if s.user_id == user_id and s.is_active(now, self._policy)]
        live.sort(key=lambda s: (s.last_used_at, s.id), reverse=True)  # as the SQL orders them
        for session in live[keep:]:
            session.revoked_at, session.revoked_reason = now, reason.value
        return [s.id for s in live[keep:]]


class InMemoryItems(ItemRepository):
    def __init__(self, store: InMemoryStore) -> None:
        self._s = store

    async def add(self, item: Item) -> None:
        self._s.items[item.id] = copy.deepcopy(item)

    async def get_owned(self, item_id: UUID, owner_id: UUID) -> Item | None:
        item = self._s.items.get(item_id)
        return copy.deepcopy(item) if item and item.owner_id == owner_id else None

    async def update(self, item: Item) -> None:
        self._s.items[item.id] = copy.deepcopy(item)

    async def delete_owned(self, item_id: UUID, owner_id: UUID) -> bool:
        item = self._s.items.get(item_id)
        if item is None or item.owner_id != owner_id:
            return False
        del self._s.items[item_id]
        return True

    async def page(self, owner_id: UUID, limit: int, offset: int) -> Page[Item]:
        mine = sorted((i for i in self._s.items.values() if i.owner_id == owner_id),
                      key=lambda i: (i.created_at, i.id), reverse=True)
        return Page(items=copy.deepcopy(mine[offset:offset + limit]), total=len(mine))


class InMemoryNotifications(NotificationRepository):
    def __init__(self, store: InMemoryStore, recorded: list[Handoff]) -> None:
        self._s = store
        self._recorded = recorded

    async def add(self, notification: Notification, account: User | None = None) -> None:
        self._s.notifications[notification.id] = copy.deepcopy(notification)
        self._s.leases[notification.id] = notification.claimed_until
        self._recorded.append(Handoff.of(notification, account))

    async def list_for_user(self, user_id: UUID) -> list[Notification]:
        return sorted((copy.deepcopy(n) for n in self._s.notifications.values() if n.user_id == user_id),
                      key=lambda n: (n.created_at, n.id), reverse=True)

    def _claimable(self, n: Notification, now: datetime) -> bool:
        lease = self._s.leases.get(n.id)
        return n.status is NotificationStatus.QUEUED and (lease is None or lease <= now)

    async def _claim(self, notification_id: UUID, now: datetime, lease_until: datetime) -> Notification | None:
        n = self._s.notifications.get(notification_id)
        if n is None or not self._claimable(n, now):
            return None
        n.attempts += 1
        self._s.leases[n.id] = lease_until
        return copy.deepcopy(n)

    async def claim_for_delivery(self, notification_id: UUID, now: datetime, lease_until: datetime,
                                 held_until: datetime | None = None) -> tuple[Notification, Recipient | None] | None:
        n = self._s.notifications.get(notification_id)
        if (n is not None and held_until is not None and n.status is NotificationStatus.QUEUED
                and self._s.leases.get(n.id) == held_until):
            self._s.leases[n.id] = lease_until
            return copy.deepcopy(n), await self.recipient(notification_id)
        claimed = await self._claim(notification_id, now, lease_until)
        return None if claimed is None else (claimed, await self.recipient(notification_id))

    async def claim_stale(self, created_before: datetime, now: datetime, lease_until: datetime,
                          limit: int) -> list[Notification]:
        stale = [n for n in self._s.notifications.values()
                 if n.created_at < created_before and self._claimable(n, now)][:limit]
        return [c for n in stale if (c := await self._claim(n.id, now, lease_until)) is not None]

    async def mark_delivered(self, notification_id: UUID, now: datetime) -> None:
        n = self._s.notifications[notification_id]
        n.status, n.delivered_at, n.last_error, n.sealed_link = NotificationStatus.DELIVERED, now, None, None
        self._s.leases[n.id] = None

    async def mark_withheld(self, notification_id: UUID) -> None:
        n = self._s.notifications[notification_id]
        n.status, n.sealed_link = NotificationStatus.WITHHELD, None
        self._s.leases[n.id] = None

    async def mark_attempt_failed(self, notification_id: UUID, error: str, final: bool,
                                  retry_at: datetime) -> None:
        n = self._s.notifications[notification_id]
        n.last_error = error
        n.status = NotificationStatus.FAILED if final else NotificationStatus.QUEUED
        if final:
            n.sealed_link = None
        self._s.leases[n.id] = None if final else retry_at

    async def recipient(self, notification_id: UUID) -> Recipient | None:
        n = self._s.notifications.get(notification_id)
        if n is not None and n.recipient is not None:
            return Recipient(n.recipient, n.recipient_verified)
        user = self._s.users.get(n.user_id) if n else None
        return Recipient(user.email, user.email_verified) if user else None


class InMemoryServiceClients(ServiceClientRepository):
    def __init__(self, store: InMemoryStore) -> None:
        self._s = store

    async def add(self, client: ServiceClient) -> None:
        if any(c.name == client.name for c in self._s.clients.values()):
            raise ClientNameTaken()
        self._s.clients[client.client_id] = client

    async def get(self, client_id: str) -> ServiceClient | None:
        return self._s.clients.get(client_id)

    async def list_all(self) -> list[ServiceClient]:
        return sorted(self._s.clients.values(), key=lambda c: (c.created_at, c.client_id))

    async def delete(self, client_id: str) -> bool:
        return self._s.clients.pop(client_id, None) is not None


class InMemoryUnitOfWork:  # a UnitOfWork (structurally: its repositories are plain attributes here)
    """Applies changes straight to the shared store; `commits` counts commits for assertions. Like the
    SQL units of work, it hands the notifications it recorded to the delivery queue once committed.

    Rollback is not modelled beyond "nothing else happens": use cases are tested for what they
    commit, and the SQL unit of work's rollback is tested on real databases.
    """

    def __init__(self, store: InMemoryStore, policy: SessionPolicy, deliveries: DeliveryQueue, *,
                 autocommit: bool = False) -> None:
        self.autocommit = autocommit
        self._deliveries = deliveries
        self._recorded: list[Handoff] = []
        self.users = InMemoryUsers(store)
        self.sessions = InMemorySessions(store, policy)
        self.items = InMemoryItems(store)
        self.notifications = InMemoryNotifications(store, self._recorded)
        self.account_tokens = InMemoryAccountTokens(store)
        self.security_events = InMemorySecurityEvents(store)
        self.service_clients = InMemoryServiceClients(store)
        self.commits = 0

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        if self.autocommit:
            self._hand_over()  # each statement stands alone: written is written

    async def commit(self) -> None:
        self.commits += 1
        self._hand_over()

    def _hand_over(self) -> None:
        if self._recorded:
            self._deliveries.put(tuple(self._recorded))
            self._recorded.clear()


class RecordingDeliveryQueue(DeliveryQueue, AfterResponse):
    """What the units of work handed to delivery, in order (the api delivers it after the response), and the
    jobs deferred until after the response (`run_deferred` runs them, as the api does once it has answered)."""

    def __init__(self) -> None:
        self.handoffs: list[Handoff] = []
        self.jobs: list[Job] = []

    def put(self, handoffs: Sequence[Handoff]) -> None:
        self.handoffs.extend(handoffs)

    def defer(self, job: Job) -> None:
        self.jobs.append(job)

    async def run_deferred(self) -> int:
        ran = 0
        while self.jobs:
            await self.jobs.pop(0)()
            ran += 1
        return ran


class FakeSessionActivity(SessionActivity):
    def __init__(self, store: InMemoryStore, policy: SessionPolicy) -> None:
        self._s = store
        self._policy = policy
        self.forgotten: list[UUID] = []

    async def is_active(self, session_id: UUID, user_id: UUID, now: datetime) -> bool:
        session = self._s.sessions.get(session_id)
        return session is not None and session.user_id == user_id and session.is_active(now, self._policy)

    def forget(self, session_ids: Iterable[UUID]) -> None:
        self.forgotten.extend(session_ids)
