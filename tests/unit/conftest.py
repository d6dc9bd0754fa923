"""A whole Gatehouse over the in-memory fakes: the application's own container with its adapters
overridden, so the use cases are wired exactly as in production (api/container.py) and adding one
is one edit there. Time is under test control; nothing does I/O."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from uuid import UUID

import pytest
from dependency_injector import providers

import application.deliver_notifications as delivery_module
from api.container import Container
from application.deliver_notifications import DeliverNotifications
from application.dto import ClientInfo, LoginCommand, RegisterCommand
from application.token_minting import IssuerAndAudience
from application.unit_of_work import UnitOfWork
from domain.notifications import DeliveryPolicy, Handoff, Notification, NotificationKind
from domain.ports import Notifier
from domain.session import Session, SessionPolicy
from domain.tokens import AccessTokenClaims, IssuedTokens, Principal
from domain.user import User
from infrastructure.settings import Settings
from tests.fakes import (
    CountingRefreshTokens,
    CountingSecrets,
    FakeClock,
    FakeCommonPasswords,
    FakeHasher,
    FakeNotifier,
    FakeRateLimiter,
    FakeSessionActivity,
    FakeSigner,
    InMemoryStore,
    InMemoryUnitOfWork,
    RecordingDeliveryQueue,
    ReversibleSealer,
    SequentialIds,
)

ISSUER = "http://gatehouse.test"
AUDIENCE = "gatehouse-test"
PASSWORD = "correct horse battery staple"
IP = "203.0.113.7"
USER_AGENT = "pytest-agent/1.0"


class Gatehouse:
    """The container's use cases over one shared in-memory store. `container.log_in()` and the like are
    the production wiring; only the adapters below are replaced."""

    def __init__(self, *, policy: SessionPolicy | None = None, derive_successors: bool = False,
                 delivery: DeliveryPolicy | None = None) -> None:
        self.clock = FakeClock()
        self.ids = SequentialIds()
        self.policy = policy or SessionPolicy()
        self.delivery = delivery or DeliveryPolicy()
        self.store = InMemoryStore()
        self.units: list[InMemoryUnitOfWork] = []
        self.hasher = FakeHasher()
        self.common = FakeCommonPasswords()
        self.signer = FakeSigner(self.clock)
        self.refresh_factory = CountingRefreshTokens(derive=derive_successors)
        self.limiter = FakeRateLimiter()  # login's
        self.password_checks = FakeRateLimiter()
        self.messages = FakeRateLimiter(max_hits=10)
        self.lockouts = FakeRateLimiter(max_hits=1)
        self.reset_requests = FakeRateLimiter(max_hits=30)
        self.reset_mails = FakeRateLimiter(max_hits=3)
        self.verification_mails = FakeRateLimiter(max_hits=3)
        self.sealer = ReversibleSealer()
        self.secrets = CountingSecrets()
        self.activity = FakeSessionActivity(self.store, self.policy)
        self.notifier = FakeNotifier(mails_people=False)  # like the log notifier: delivers every kind
        self.deliveries = RecordingDeliveryQueue()
        # Never read from disk or the network: every adapter that would is overridden below.
        self.container = Container(settings=Settings(_env_file=None, data_dir=Path("/nonexistent/gatehouse-unit")))
        overrides: dict[str, object] = {
            "clock": self.clock, "ids": self.ids, "session_policy": self.policy, "delivery_policy": self.delivery,
            "unit_of_work": self.uow, "hasher": self.hasher, "common_passwords": self.common,
            "signer": self.signer, "token_factory": self.refresh_factory, "login_limiter": self.limiter,
            "password_check_limiter": self.password_checks, "message_limiter": self.messages,
            "lockout_notice_limiter": self.lockouts, "reset_request_limiter": self.reset_requests,
            "reset_mail_limiter": self.reset_mails, "verification_mail_limiter": self.verification_mails,
            "link_sealer": self.sealer, "secret_tokens": self.secrets,
            "session_activity": self.activity, "notifier": self.notifier, "deliveries": self.deliveries,
            "addressing": IssuerAndAudience(ISSUER, AUDIENCE),
        }
        for name, fake in overrides.items():
            getattr(self.container, name).override(providers.Object(fake))

    # -- plumbing -------------------------------------------------------------------------------

    def uow(self, *, autocommit: bool = False) -> UnitOfWork:
        unit = InMemoryUnitOfWork(self.store, self.policy, self.deliveries, autocommit=autocommit)
        self.units.append(unit)
        return unit

    @property
    def commits(self) -> int:
        return sum(unit.commits for unit in self.units)

    @property
    def handed_to_delivery(self) -> list[Handoff]:
        """Every notification a unit of work committed and handed to delivery, in order."""
        return self.deliveries.handoffs

    def handed_to_delivery_of(self, kind: NotificationKind) -> list[Handoff]:
        return [h for h in self.deliveries.handoffs if h.notification.kind is kind]

    def use_notifier(self, notifier: Notifier) -> None:
        self.container.notifier.override(providers.Object(notifier))
        self.container.deliver_notifications.reset()

    def deliver_notifications(self, policy: DeliveryPolicy | None = None) -> DeliverNotifications:
        """The container's deliverer; with `policy`, one wired the same way under that policy."""
        if policy is None:
            return self.container.deliver_notifications()
        with self.container.delivery_policy.override(providers.Object(policy)):
            self.container.deliver_notifications.reset()
            deliverer = self.container.deliver_notifications()
        self.container.deliver_notifications.reset()
        return deliverer

    # -- scenario helpers -------------------------------------------------------------------------

    async def sign_up(self, email: str = "alice@example.com", password: str = PASSWORD,
                      full_name: str | None = None) -> User:
        return await self.container.register_user().execute(RegisterCommand(email, password, full_name))

    async def sign_in(self, email: str = "alice@example.com", password: str = PASSWORD, *,
                      ip: str | None = IP, user_agent: str | None = USER_AGENT) -> IssuedTokens:
        return await self.container.log_in().execute(LoginCommand(email, password, ClientInfo(ip, user_agent)))

    async def principal(self, tokens: IssuedTokens) -> Principal:
        return await self.container.authenticate().execute(tokens.access_token)

    def claims(self, access_token: str) -> AccessTokenClaims:
        return self.signer.claims_of(access_token)

    def session(self, session_id: UUID) -> Session:
        return self.store.sessions[session_id]

    def notifications(self, kind: NotificationKind | None = None) -> list[Notification]:
        return [n for n in self.store.notifications.values() if kind is None or n.kind is kind]


@pytest.fixture
def gatehouse() -> Gatehouse:
    return Gatehouse()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sleeps(gatehouse: Gatehouse, monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The delivery retry loop's sleeps, recorded; each moves the fake clock forward instead of waiting."""
    recorded: list[float] = []

    async def fake_sleep(delay: float) -> None:
        recorded.append(delay)
        gatehouse.clock.advance(seconds=delay)

    monkeypatch.setattr(delivery_module, "asyncio", SimpleNamespace(sleep=fake_sleep))
    return recorded
