"""The rules of administration (domain/administration.py, User's roles and status) and the admin use cases
over the in-memory fakes: what each writes, ends, records and refuses."""

from __future__ import annotations

import dataclasses
import uuid

import pytest

from application.administration import SYSTEM, Acting
from application.dto import ClientInfo, LoginCommand, RegisterCommand
from domain.administration import EventFilter, UserFilter, ensure_an_admin_remains, ensure_not_self
from domain.errors import (
    AccountDisabled,
    CannotActOnSelf,
    Forbidden,
    InvalidCredentials,
    InvalidRefreshToken,
    InvalidRole,
    LastAdmin,
    NotFound,
)
from domain.notifications import NotificationKind
from domain.security_events import Actor, SecurityEventType
from domain.user import AccountStatus, User, parse_roles
from tests.unit.conftest import IP, PASSWORD, USER_AGENT, Gatehouse

CLIENT = ClientInfo(IP, USER_AGENT)


# -- the rules -------------------------------------------------------------------------------------

def test_roles_are_validated_sorted_and_unique() -> None:
    assert parse_roles(["support", "admin", "support"]) == ("admin", "support")
    assert parse_roles([]) == ()
    assert parse_roles(["a.b:c-d_e", "9lives"]) == ("9lives", "a.b:c-d_e")
    for bad in (["Admin"], ["two words"], [""], ["-lead"], ["x" * 65], [f"r{n}" for n in range(21)]):
        with pytest.raises(InvalidRole):
            parse_roles(bad)


def _user(roles: tuple[str, ...] = (), status: AccountStatus = AccountStatus.ACTIVE) -> User:
    from datetime import UTC, datetime

    from domain.user import Email, PasswordHash

    now = datetime(2026, 1, 1, tzinfo=UTC)
    return User(id=uuid.uuid4(), email=Email("a@example.com"), password_hash=PasswordHash("h"), full_name=None,
                created_at=now, updated_at=now, roles=roles, status=status)


def test_only_an_active_account_holding_admin_is_an_active_admin() -> None:
    assert _user(("admin",)).is_active_admin
    assert not _user(("admin",), AccountStatus.DISABLED).is_active_admin
    assert not _user(("support",)).is_active_admin


def test_the_last_active_admin_cannot_lose_the_role_be_disabled_or_be_deleted() -> None:
    admin = _user(("admin",))
    demoted = dataclasses.replace(admin, roles=())
    disabled = dataclasses.replace(admin, status=AccountStatus.DISABLED)
    for after in (demoted, disabled, None):
        with pytest.raises(LastAdmin):
            ensure_an_admin_remains(admin, after, other_active_admins=0)
        ensure_an_admin_remains(admin, after, other_active_admins=1)
    ensure_an_admin_remains(admin, dataclasses.replace(admin, roles=("admin", "x")), other_active_admins=0)
    plain = _user()
    ensure_an_admin_remains(plain, None, other_active_admins=0)  # not an admin: nothing to keep


def test_an_admin_cannot_act_on_their_own_account_the_operator_can() -> None:
    target = _user(("admin",))
    with pytest.raises(CannotActOnSelf):
        ensure_not_self(target.id, target, "disable")
    ensure_not_self(uuid.uuid4(), target, "disable")
    ensure_not_self(None, target, "disable")  # the CLI (system) has no account of its own


def test_an_address_piece_is_compared_in_the_stored_form() -> None:
    assert UserFilter.address_piece("  \uff21LICE@Example ") == "alice@example"


# -- the use cases ---------------------------------------------------------------------------------

async def _admin(gatehouse: Gatehouse, email: str = "boss@example.com") -> User:
    return await gatehouse.container.register_user().execute(RegisterCommand(email, PASSWORD, roles=("admin",)),
                                                             acting=SYSTEM)


def _by(admin: User) -> Acting:
    return Acting.admin(admin.id, CLIENT)


async def test_the_operator_creates_an_admin_and_it_is_recorded_as_system(gatehouse: Gatehouse) -> None:
    boss = await _admin(gatehouse)
    assert boss.roles == ("admin",)
    [event] = gatehouse.store.events
    assert (event.type, event.actor, event.actor_id) == (SecurityEventType.ROLES_CHANGED, Actor.SYSTEM, None)


async def test_require_admin_reads_the_store_every_time(gatehouse: Gatehouse) -> None:
    await _admin(gatehouse)
    tokens = await gatehouse.sign_in("boss@example.com")
    principal = await gatehouse.principal(tokens)
    await gatehouse.container.require_admin().execute(principal)
    gatehouse.store.users[principal.user_id].roles = ()
    with pytest.raises(Forbidden):
        await gatehouse.container.require_admin().execute(principal)


async def test_disabling_ends_every_session_voids_links_and_tells_the_user(gatehouse: Gatehouse) -> None:
    boss = await _admin(gatehouse)
    alice = await gatehouse.sign_up()
    tokens = await gatehouse.sign_in()
    await gatehouse.container.request_password_reset().execute("alice@example.com", CLIENT)
    await gatehouse.deliveries.run_deferred()
    disabled = await gatehouse.container.disable_user().execute(_by(boss), alice.id, "fraud")
    assert (disabled.status, disabled.disabled_reason) == (AccountStatus.DISABLED, "fraud")
    assert gatehouse.session(tokens.session_id).revoked_at is not None
    assert all(spent is not None for t, spent in gatehouse.store.account_tokens.values() if t.user_id == alice.id)
    assert len(gatehouse.notifications(NotificationKind.ACCOUNT_DISABLED)) == 1
    event = gatehouse.store.events[-1]
    assert (event.type, event.actor, event.actor_id, event.ip) == (SecurityEventType.USER_DISABLED, Actor.ADMIN,
                                                                   boss.id, IP)
    with pytest.raises(InvalidRefreshToken):
        await gatehouse.container.rotate_refresh_token().execute(tokens.refresh_token)
    with pytest.raises(AccountDisabled):
        await gatehouse.sign_in()
    with pytest.raises(InvalidCredentials):
        await gatehouse.container.log_in().execute(LoginCommand("alice@example.com", "wrong password", CLIENT))


async def test_a_login_that_raced_a_disable_starts_no_session(gatehouse: Gatehouse) -> None:
    alice = await gatehouse.sign_up()
    # the password was checked with the account active; the account is disabled before the session is written
    original = gatehouse.hasher.verify

    async def verify_then_disable(stored: object, password: str) -> bool:
        ok = await original(stored, password)  # type: ignore[arg-type]
        gatehouse.store.users[alice.id].status = AccountStatus.DISABLED
        return ok

    gatehouse.hasher.verify = verify_then_disable  # type: ignore[method-assign]
    with pytest.raises(InvalidCredentials):
        await gatehouse.sign_in()
    assert gatehouse.store.sessions == {}


async def test_enabling_brings_no_session_back(gatehouse: Gatehouse) -> None:
    boss = await _admin(gatehouse)
    alice = await gatehouse.sign_up()
    tokens = await gatehouse.sign_in()
    await gatehouse.container.disable_user().execute(_by(boss), alice.id, None)
    enabled = await gatehouse.container.enable_user().execute(_by(boss), alice.id)
    assert enabled.status is AccountStatus.ACTIVE
    assert gatehouse.session(tokens.session_id).revoked_at is not None
    await gatehouse.sign_in()
    assert gatehouse.store.events[-2].type is SecurityEventType.USER_ENABLED


async def test_role_changes_hold_the_admins_and_keep_one(gatehouse: Gatehouse) -> None:
    boss = await _admin(gatehouse)
    with pytest.raises(LastAdmin):
        await gatehouse.container.update_user().execute(_by(boss), boss.id, roles=())
    assert gatehouse.store.admins_held == 1  # counted under the hold
    other = await _admin(gatehouse, "other@example.com")
    changed = await gatehouse.container.update_user().execute(_by(other), boss.id, roles=("support",))
    assert changed.roles == ("support",)
    assert gatehouse.store.users[boss.id].roles == ("support",)
    with pytest.raises(LastAdmin):
        await gatehouse.container.disable_user().execute(SYSTEM, other.id, None)
    with pytest.raises(LastAdmin):
        await gatehouse.container.delete_user().execute(SYSTEM, other.id)


async def test_a_rename_alone_records_no_role_change(gatehouse: Gatehouse) -> None:
    boss = await _admin(gatehouse)
    before = len(gatehouse.store.events)
    renamed = await gatehouse.container.update_user().execute(_by(boss), boss.id, full_name="The Boss")
    assert renamed.full_name == "The Boss"
    unchanged = await gatehouse.container.update_user().execute(_by(boss), boss.id, roles=("admin",))
    assert unchanged.roles == ("admin",)
    assert len(gatehouse.store.events) == before


async def test_admin_deletes_as_the_user_would_and_the_log_stays(gatehouse: Gatehouse) -> None:
    boss = await _admin(gatehouse)
    alice = await gatehouse.sign_up()
    tokens = await gatehouse.sign_in()
    with pytest.raises(CannotActOnSelf):
        await gatehouse.container.delete_user().execute(_by(boss), boss.id)
    await gatehouse.container.delete_user().execute(_by(boss), alice.id)
    assert alice.id not in gatehouse.store.users
    assert tokens.session_id not in gatehouse.store.sessions
    assert gatehouse.store.events[-1].type is SecurityEventType.USER_DELETED
    with pytest.raises(NotFound):
        await gatehouse.container.get_user().execute(alice.id)
    with pytest.raises(NotFound):
        await gatehouse.container.delete_user().execute(_by(boss), alice.id)


async def test_unknown_accounts_are_not_found_everywhere(gatehouse: Gatehouse) -> None:
    boss = await _admin(gatehouse)
    nobody = uuid.uuid4()
    c = gatehouse.container
    for attempt in (c.get_user().execute(nobody), c.update_user().execute(_by(boss), nobody, roles=()),
                    c.disable_user().execute(_by(boss), nobody, None), c.enable_user().execute(_by(boss), nobody),
                    c.list_user_sessions().execute(nobody), c.end_user_sessions().execute(_by(boss), nobody),
                    c.send_password_reset().execute(_by(boss), nobody), c.delete_user().execute(_by(boss), nobody),
                    c.get_user().by_email("nobody@example.com")):
        with pytest.raises(NotFound):
            await attempt


async def test_listings_page_by_keyset(gatehouse: Gatehouse) -> None:
    for n in range(5):
        await gatehouse.sign_up(f"u{n}@example.com")
        gatehouse.clock.advance(seconds=1)
    found, after = await gatehouse.container.list_users().execute(UserFilter(email_contains="u"), 2, None)
    assert [u.email.value for u in found] == ["u0@example.com", "u1@example.com"]
    rest, end = await gatehouse.container.list_users().execute(UserFilter(email_contains="u"), 10, after)
    assert [u.email.value for u in rest] == ["u2@example.com", "u3@example.com", "u4@example.com"]
    assert end is None
    events, _ = await gatehouse.container.search_security_events().execute(
        EventFilter(type=SecurityEventType.ROLES_CHANGED), 10, None)
    assert events == []


async def test_the_users_own_log_does_not_show_the_admins_address(gatehouse: Gatehouse) -> None:
    boss = await _admin(gatehouse)
    alice = await gatehouse.sign_up()
    tokens = await gatehouse.sign_in()
    await gatehouse.container.update_user().execute(_by(boss), alice.id, roles=("support",))
    admin_view, _ = await gatehouse.container.search_security_events().execute(EventFilter(user_id=alice.id), 10, None)
    assert (admin_view[0].ip, admin_view[0].user_agent) == (IP, USER_AGENT)  # the admin's request
    own, _ = await gatehouse.container.list_security_events().execute(await gatehouse.principal(tokens), 10, None)
    assert own[0].type is SecurityEventType.ROLES_CHANGED
    assert (own[0].actor, own[0].ip, own[0].user_agent) == (Actor.ADMIN, None, None)
    assert own[1].ip == IP  # the user's own login keeps its address


async def test_changing_the_reason_of_a_disabled_account_is_recorded(gatehouse: Gatehouse) -> None:
    boss = await _admin(gatehouse)
    alice = await gatehouse.sign_up()
    await gatehouse.container.disable_user().execute(_by(boss), alice.id, "first")
    await gatehouse.container.disable_user().execute(_by(boss), alice.id, "first")  # nothing new: nothing recorded
    await gatehouse.container.disable_user().execute(_by(boss), alice.id, "second")
    disabled = [e for e in gatehouse.store.events if e.type is SecurityEventType.USER_DISABLED]
    assert len(disabled) == 2
    assert gatehouse.store.users[alice.id].disabled_reason == "second"
    assert len(gatehouse.notifications(NotificationKind.ACCOUNT_DISABLED)) == 1  # told once


async def test_a_reset_request_that_raced_a_disable_issues_no_link(gatehouse: Gatehouse) -> None:
    alice = await gatehouse.sign_up()
    await gatehouse.container.request_password_reset().execute("alice@example.com", CLIENT)
    original = gatehouse.reset_mails.reserve

    async def reserve_then_disable(key: str) -> int | None:  # the disable commits between lookup and issue
        answer = await original(key)
        gatehouse.store.users[alice.id].status = AccountStatus.DISABLED
        return answer

    gatehouse.reset_mails.reserve = reserve_then_disable  # type: ignore[method-assign]
    await gatehouse.deliveries.run_deferred()
    assert gatehouse.notifications(NotificationKind.PASSWORD_RESET) == []
    assert not any(t.kind.value == "password_reset" for t, _ in gatehouse.store.account_tokens.values())
