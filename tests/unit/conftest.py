"""A whole Gatehouse wired over the in-memory fakes: every use case built directly, time under test control."""

from __future__ import annotations

from types import SimpleNamespace
from typing import cast
from uuid import UUID

import pytest

import application.notifications as notifications_module
from application.authenticate import Authenticate
from application.dto import ClientInfo, LoginCommand, RegisterCommand, TokenResult
from application.items import CreateItem, DeleteItem, GetItem, ListItems, UpdateItem
from application.log_in import LogIn
from application.log_out import LogOut
from application.notifications import DeliverNotifications, ListNotifications, SendMessage
from application.profile import ChangePassword, GetProfile, UpdateProfile
from application.refresh_tokens import RefreshTokens
from application.register_user import RegisterUser
from application.sessions import EndSession, ListSessions, LogOutEverywhere
from application.token_minting import AccessTokenMinter, TokenAudience
from application.unit_of_work import UnitOfWork
from domain.notifications import DeliveryPolicy, Notification, NotificationKind
from domain.session import Session, SessionPolicy
from domain.tokens import AccessTokenClaims, Principal
from domain.user import User
from tests.fakes import (
    CountingRefreshTokens,
    FakeClock,
    FakeCommonPasswords,
    FakeHasher,
    FakeNotifier,
    FakeRateLimiter,
    FakeSessionActivity,
    FakeSigner,
    InMemoryStore,
    InMemoryUnitOfWork,
    SequentialIds,
)

ISSUER = "http://gatehouse.test"
AUDIENCE = "gatehouse-test"
PASSWORD = "correct horse battery staple"
IP = "203.0.113.7"
USER_AGENT = "pytest-agent/1.0"


class Gatehouse:
    """The use cases over one shared in-memory store, wired like api/container.py wires the real ones."""

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
        self.limiter = FakeRateLimiter()
        self.activity = FakeSessionActivity(self.store, self.policy)
        self.notifier = FakeNotifier()
        self.minter = AccessTokenMinter(self.signer, self.ids, self.policy, TokenAudience(ISSUER, AUDIENCE))

    # -- plumbing -------------------------------------------------------------------------------

    def uow(self, *, autocommit: bool = False) -> UnitOfWork:
        unit = InMemoryUnitOfWork(self.store, self.policy, autocommit=autocommit)
        self.units.append(unit)
        # The fakes' repositories are typed by their own classes; structurally they are the ports.
        return cast(UnitOfWork, unit)

    @property
    def commits(self) -> int:
        return sum(unit.commits for unit in self.units)

    # -- use cases --------------------------------------------------------------------------------

    def register_user(self) -> RegisterUser:
        return RegisterUser(self.uow, self.hasher, self.common, self.clock, self.ids)

    def log_in(self) -> LogIn:
        return LogIn(self.uow, self.hasher, self.limiter, self.minter, self.refresh_factory, self.clock,
                     self.ids, self.policy, self.delivery)

    def refresh_tokens(self) -> RefreshTokens:
        return RefreshTokens(self.uow, self.minter, self.refresh_factory, self.activity, self.clock,
                             self.ids, self.policy, self.delivery)

    def log_out(self) -> LogOut:
        return LogOut(self.uow, self.signer, self.activity, self.clock)

    def log_out_everywhere(self) -> LogOutEverywhere:
        return LogOutEverywhere(self.uow, self.activity, self.clock)

    def list_sessions(self) -> ListSessions:
        return ListSessions(self.uow, self.clock, self.policy)

    def end_session(self) -> EndSession:
        return EndSession(self.uow, self.activity, self.clock, self.policy)

    def authenticate(self) -> Authenticate:
        return Authenticate(self.signer, self.activity, self.clock)

    def get_profile(self) -> GetProfile:
        return GetProfile(self.uow)

    def update_profile(self) -> UpdateProfile:
        return UpdateProfile(self.uow, self.clock)

    def change_password(self) -> ChangePassword:
        return ChangePassword(self.uow, self.hasher, self.common, self.activity, self.clock, self.ids,
                              self.delivery)

    def create_item(self) -> CreateItem:
        return CreateItem(self.uow, self.clock, self.ids)

    def list_items(self) -> ListItems:
        return ListItems(self.uow)

    def get_item(self) -> GetItem:
        return GetItem(self.uow)

    def update_item(self) -> UpdateItem:
        return UpdateItem(self.uow, self.clock)

    def delete_item(self) -> DeleteItem:
        return DeleteItem(self.uow)

    def send_message(self) -> SendMessage:
        return SendMessage(self.uow, self.clock, self.ids, self.delivery)

    def list_notifications(self) -> ListNotifications:
        return ListNotifications(self.uow)

    def deliver_notifications(self, policy: DeliveryPolicy | None = None) -> DeliverNotifications:
        return DeliverNotifications(self.uow, self.notifier, self.clock, policy or self.delivery)

    # -- scenario helpers -------------------------------------------------------------------------

    async def sign_up(self, email: str = "alice@example.com", password: str = PASSWORD,
                      full_name: str | None = None) -> User:
        return await self.register_user().execute(RegisterCommand(email, password, full_name))

    async def sign_in(self, email: str = "alice@example.com", password: str = PASSWORD, *,
                      ip: str | None = IP, user_agent: str | None = USER_AGENT) -> TokenResult:
        return await self.log_in().execute(LoginCommand(email, password, ClientInfo(ip, user_agent)))

    async def principal(self, result: TokenResult) -> Principal:
        return await self.authenticate().execute(result.tokens.access_token)

    def claims(self, access_token: str) -> AccessTokenClaims:
        return self.signer.verify(access_token, allow_expired=True)

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

    monkeypatch.setattr(notifications_module, "asyncio", SimpleNamespace(sleep=fake_sleep))
    return recorded
