"""Authenticate, the profile and password change over the fakes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from application.dto import ChangePasswordCommand
from domain.errors import InvalidCredentials, InvalidToken, RateLimited, WeakPassword, WrongCurrentPassword
from domain.notifications import CREDENTIALS_CHANGED_TEXT, NotificationKind, NotificationStatus
from domain.session import SessionPolicy
from domain.tokens import IssuedTokens
from domain.user import PasswordHash
from tests.fakes import T0
from tests.unit.conftest import PASSWORD, Gatehouse

NEW_PASSWORD = "a brand new passphrase"


async def logged_in(gatehouse: Gatehouse) -> IssuedTokens:
    if not gatehouse.store.users:
        await gatehouse.sign_up()
    return await gatehouse.sign_in()


# -- authenticate ------------------------------------------------------------------------------------------


async def test_a_valid_access_token_of_a_live_session_authenticates_its_user(gatehouse: Gatehouse) -> None:
    login = await logged_in(gatehouse)

    principal = await gatehouse.principal(login)

    user = next(iter(gatehouse.store.users.values()))
    assert principal.user_id == user.id
    assert principal.session_id == login.session_id
    assert principal.scope == ""
    assert principal.token_expires_at == T0 + timedelta(minutes=15)


async def test_an_access_token_of_a_revoked_session_is_refused(gatehouse: Gatehouse) -> None:
    login = await logged_in(gatehouse)
    await gatehouse.container.log_out().execute(login.refresh_token)

    with pytest.raises(InvalidToken, match="ended"):
        await gatehouse.principal(login)


async def test_an_expired_access_token_is_refused(gatehouse: Gatehouse) -> None:
    login = await logged_in(gatehouse)
    gatehouse.clock.advance(minutes=15)

    with pytest.raises(InvalidToken):
        await gatehouse.principal(login)


async def test_an_access_token_of_a_session_that_expired_for_idleness_is_refused() -> None:
    # the access token outlives nothing: a session whose idle timeout is short ends the token with it
    gatehouse = Gatehouse(policy=SessionPolicy(idle_timeout=timedelta(minutes=5)))
    login = await logged_in(gatehouse)
    gatehouse.clock.advance(minutes=5)

    with pytest.raises(InvalidToken):
        await gatehouse.principal(login)


async def test_a_token_the_signer_never_issued_is_refused(gatehouse: Gatehouse) -> None:
    await logged_in(gatehouse)

    with pytest.raises(InvalidToken):
        await gatehouse.container.authenticate().execute("h.forged.s")


# -- profile -------------------------------------------------------------------------------------------------


async def test_reading_my_profile_returns_my_account(gatehouse: Gatehouse) -> None:
    user = await gatehouse.sign_up(full_name="Alice")
    login = await gatehouse.sign_in()

    profile = await gatehouse.container.get_profile().execute(await gatehouse.principal(login))

    assert (profile.id, profile.email, profile.full_name) == (user.id, user.email, "Alice")


async def test_reading_the_profile_of_a_deleted_account_is_an_invalid_token(gatehouse: Gatehouse) -> None:
    login = await logged_in(gatehouse)
    principal = await gatehouse.principal(login)
    gatehouse.store.users.clear()

    with pytest.raises(InvalidToken):
        await gatehouse.container.get_profile().execute(principal)


async def test_renaming_myself_changes_the_full_name_and_update_time(gatehouse: Gatehouse) -> None:
    principal = await gatehouse.principal(await logged_in(gatehouse))
    gatehouse.clock.advance(hours=1)

    user = await gatehouse.container.update_profile().execute(principal, "Alice L.")

    stored = gatehouse.store.users[user.id]
    assert stored.full_name == "Alice L."
    assert stored.updated_at == T0 + timedelta(hours=1)
    assert stored.created_at == T0


async def test_renaming_myself_to_null_clears_the_full_name(gatehouse: Gatehouse) -> None:
    await gatehouse.sign_up(full_name="Alice")
    login = await gatehouse.sign_in()

    user = await gatehouse.container.update_profile().execute(await gatehouse.principal(login), None)

    assert gatehouse.store.users[user.id].full_name is None


# -- password change -------------------------------------------------------------------------------------------


async def change(gatehouse: Gatehouse, caller: IssuedTokens, current: str = PASSWORD,
                 new: str = NEW_PASSWORD) -> None:
    await gatehouse.container.change_password().execute(await gatehouse.principal(caller),
                                                        ChangePasswordCommand(current, new))


async def test_changing_my_password_stores_the_new_hash(gatehouse: Gatehouse) -> None:
    caller = await logged_in(gatehouse)
    gatehouse.clock.advance(minutes=10)

    await change(gatehouse, caller)

    user = next(iter(gatehouse.store.users.values()))
    assert user.password_hash == PasswordHash(f"fake$v1${NEW_PASSWORD}")
    assert user.updated_at == T0 + timedelta(minutes=10)


async def test_after_a_password_change_only_the_new_password_logs_in(gatehouse: Gatehouse) -> None:
    caller = await logged_in(gatehouse)
    await change(gatehouse, caller)

    with pytest.raises(InvalidCredentials):
        await gatehouse.sign_in(password=PASSWORD)
    assert (await gatehouse.sign_in(password=NEW_PASSWORD)).session_id in gatehouse.store.sessions


async def test_changing_my_password_ends_my_other_sessions_and_keeps_mine(gatehouse: Gatehouse) -> None:
    caller = await logged_in(gatehouse)
    others = [await logged_in(gatehouse) for _ in range(2)]

    await change(gatehouse, caller)

    for other in others:
        assert gatehouse.session(other.session_id).revoked_reason == "password_changed"
        with pytest.raises(InvalidToken):
            await gatehouse.principal(other)
    assert gatehouse.session(caller.session_id).revoked_at is None
    assert (await gatehouse.principal(caller)).session_id == caller.session_id
    assert sorted(gatehouse.activity.forgotten) == sorted(o.session_id for o in others)


async def test_changing_my_password_leaves_other_users_sessions_alone(gatehouse: Gatehouse) -> None:
    caller = await logged_in(gatehouse)
    await gatehouse.sign_up("bob@example.com")
    bob = await gatehouse.sign_in("bob@example.com")

    await change(gatehouse, caller)

    assert gatehouse.session(bob.session_id).revoked_at is None


async def test_changing_my_password_queues_a_password_changed_notification(gatehouse: Gatehouse) -> None:
    caller = await logged_in(gatehouse)

    before = len(gatehouse.handed_to_delivery)

    await change(gatehouse, caller)

    [notification] = gatehouse.notifications(NotificationKind.PASSWORD_CHANGED)
    [handoff] = gatehouse.handed_to_delivery[before:]  # committed, so handed to delivery after the response
    assert handoff.notification.id == notification.id
    assert handoff.recipient is not None  # the creator knew the address: no lookup at delivery
    assert notification.attempts == 1  # claimed by its creator when recorded
    assert notification.status is NotificationStatus.QUEUED
    assert notification.message == CREDENTIALS_CHANGED_TEXT
    assert notification.user_id == next(iter(gatehouse.store.users.values())).id


async def test_a_wrong_current_password_changes_nothing(gatehouse: Gatehouse) -> None:
    caller = await logged_in(gatehouse)
    other = await logged_in(gatehouse)

    with pytest.raises(WrongCurrentPassword):
        await change(gatehouse, caller, current="not my password")

    user = next(iter(gatehouse.store.users.values()))
    assert user.password_hash == PasswordHash(f"fake$v1${PASSWORD}")
    assert gatehouse.session(other.session_id).revoked_at is None
    assert gatehouse.notifications(NotificationKind.PASSWORD_CHANGED) == []


async def test_a_wrong_current_password_is_not_the_login_error(gatehouse: Gatehouse) -> None:
    caller = await logged_in(gatehouse)

    with pytest.raises(WrongCurrentPassword) as caught:
        await change(gatehouse, caller, current="not my password")

    assert not isinstance(caught.value, InvalidCredentials)
    assert caught.value.code == "invalid_credentials"


@pytest.mark.parametrize("new", ["short", "Password123", "x" * 1025])
async def test_a_weak_new_password_is_refused_and_names_the_new_password_field(
        gatehouse: Gatehouse, new: str) -> None:
    caller = await logged_in(gatehouse)

    with pytest.raises(WeakPassword) as caught:
        await change(gatehouse, caller, new=new)

    assert caught.value.field == "new_password"
    user = next(iter(gatehouse.store.users.values()))
    assert user.password_hash == PasswordHash(f"fake$v1${PASSWORD}")


async def test_five_wrong_current_passwords_then_even_the_right_one_is_rate_limited(gatehouse: Gatehouse) -> None:
    caller = await logged_in(gatehouse)
    for _ in range(5):
        with pytest.raises(WrongCurrentPassword):
            await change(gatehouse, caller, current="not my password")

    with pytest.raises(RateLimited) as caught:
        await change(gatehouse, caller)

    assert caught.value.retry_after_seconds == 60
    user = next(iter(gatehouse.store.users.values()))
    assert user.password_hash == PasswordHash(f"fake$v1${PASSWORD}")
    assert gatehouse.password_checks.failures == {str(user.id): 5}
    assert gatehouse.limiter.failures == {}  # login's counter is apart


async def test_a_correct_current_password_before_the_limit_resets_the_count(gatehouse: Gatehouse) -> None:
    caller = await logged_in(gatehouse)
    for _ in range(4):
        with pytest.raises(WrongCurrentPassword):
            await change(gatehouse, caller, current="not my password")

    await change(gatehouse, caller)

    assert gatehouse.password_checks.failures == {}


async def test_a_weak_new_password_is_refused_before_a_check_is_counted(gatehouse: Gatehouse) -> None:
    caller = await logged_in(gatehouse)
    with pytest.raises(WeakPassword):
        await change(gatehouse, caller, current="not my password", new="short")
    assert gatehouse.password_checks.failures == {}


async def test_a_password_change_that_raced_another_change_writes_nothing(gatehouse: Gatehouse) -> None:
    caller = await logged_in(gatehouse)
    other = await logged_in(gatehouse)
    user = next(iter(gatehouse.store.users.values()))

    async def changed_elsewhere() -> None:
        user.change_password_hash(PasswordHash("fake$v1$changed elsewhere"), gatehouse.clock.now())

    gatehouse.hasher.while_verifying = changed_elsewhere
    with pytest.raises(WrongCurrentPassword):
        await change(gatehouse, caller)

    assert user.password_hash == PasswordHash("fake$v1$changed elsewhere")
    assert gatehouse.session(other.session_id).revoked_at is None
    assert gatehouse.notifications(NotificationKind.PASSWORD_CHANGED) == []


async def test_a_password_change_raises_the_credential_version_and_a_rename_does_not(gatehouse: Gatehouse) -> None:
    caller = await logged_in(gatehouse)
    await gatehouse.container.update_profile().execute(await gatehouse.principal(caller), "Alice")
    user = next(iter(gatehouse.store.users.values()))
    assert user.credential_version == 0
    await change(gatehouse, caller)
    assert user.credential_version == 1
    assert user.full_name == "Alice"
