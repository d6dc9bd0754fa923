"""LogIn over the fakes: sessions, notifications, the failure rate limit, rehashing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.errors import InvalidCredentials, RateLimited
from domain.notifications import NotificationKind, NotificationStatus
from domain.security_events import Actor, SecurityEventType
from domain.session import SessionPolicy
from domain.user import MAX_PASSWORD_LENGTH, PasswordHash
from tests.fakes import T0
from tests.unit.conftest import AUDIENCE, IP, ISSUER, PASSWORD, USER_AGENT, Gatehouse

KEY = f"alice@example.com|{IP}"


@pytest.fixture
async def registered(gatehouse: Gatehouse) -> Gatehouse:
    await gatehouse.sign_up("alice@example.com")
    return gatehouse


async def test_logging_in_starts_a_session_for_the_client(registered: Gatehouse) -> None:
    result = await registered.sign_in()

    session = registered.session(result.session_id)
    user = next(iter(registered.store.users.values()))
    assert session.user_id == user.id
    assert session.created_at == session.last_used_at == T0
    assert (session.ip, session.user_agent) == (IP, USER_AGENT)
    assert session.revoked_at is None
    assert registered.store.tokens[session.current_token.value] == session.id


async def test_logging_in_returns_a_refresh_token_stored_only_as_its_digest(registered: Gatehouse) -> None:
    result = await registered.sign_in()

    session = registered.session(result.session_id)
    assert session.current_token.value != result.refresh_token
    assert result.refresh_token not in registered.store.tokens
    assert session.current_token.value in registered.store.tokens


async def test_logging_in_mints_an_access_token_for_the_user_and_session(registered: Gatehouse) -> None:
    result = await registered.sign_in()

    claims = registered.claims(result.access_token)
    user = next(iter(registered.store.users.values()))
    assert claims.subject == user.id
    assert claims.session_id == result.session_id
    assert (claims.issuer, claims.audience) == (ISSUER, AUDIENCE)
    assert claims.issued_at == T0
    assert claims.expires_at == T0 + timedelta(minutes=15)
    assert claims.scope == result.scope == ""
    assert result.expires_in == 900


async def test_each_login_starts_its_own_session(registered: Gatehouse) -> None:
    first = await registered.sign_in()
    second = await registered.sign_in()

    assert first.session_id != second.session_id
    assert first.refresh_token != second.refresh_token
    assert len(registered.store.sessions) == 2


async def test_logging_in_queues_a_new_login_notification_for_delivery_after_the_response(
        registered: Gatehouse) -> None:
    await registered.sign_in()

    [notification] = registered.notifications(NotificationKind.NEW_LOGIN)
    user = next(iter(registered.store.users.values()))
    [handoff] = registered.handed_to_delivery_of(NotificationKind.NEW_LOGIN)  # committed: delivered after the response
    assert handoff.notification.id == notification.id
    assert handoff.recipient == user.email
    assert notification.attempts == 1  # claimed by its creator when recorded
    assert notification.user_id == user.id
    assert notification.status is NotificationStatus.QUEUED
    assert IP in notification.message
    assert USER_AGENT not in notification.message  # described from a fixed list, never quoted
    assert "an unrecognised app or device" in notification.message


async def test_every_successful_login_sends_its_own_new_login_notification(registered: Gatehouse) -> None:
    await registered.sign_in()
    await registered.sign_in()

    assert len(registered.notifications(NotificationKind.NEW_LOGIN)) == 2


async def test_logging_in_with_another_spelling_of_the_email_succeeds(registered: Gatehouse) -> None:
    result = await registered.sign_in("  ALICE@Example.com ")

    assert result.session_id in registered.store.sessions


async def test_a_wrong_password_is_refused_and_counted_toward_the_limit(registered: Gatehouse) -> None:
    with pytest.raises(InvalidCredentials):
        await registered.sign_in(password="wrong password")

    assert registered.limiter.failures == {KEY: 1}
    assert registered.store.sessions == {}
    assert registered.notifications(NotificationKind.NEW_LOGIN) == []


async def test_an_unknown_email_is_refused_counted_and_spends_a_dummy_verification(registered: Gatehouse) -> None:
    with pytest.raises(InvalidCredentials):
        await registered.sign_in("nobody@example.com")

    assert registered.hasher.dummy_verifications == 1
    assert registered.limiter.failures == {f"nobody@example.com|{IP}": 1}
    assert registered.store.sessions == {}


async def test_a_malformed_email_is_refused_like_an_unknown_one(registered: Gatehouse) -> None:
    with pytest.raises(InvalidCredentials):
        await registered.sign_in("no-at-sign")

    assert registered.hasher.dummy_verifications == 1
    assert registered.limiter.failures == {f"no-at-sign|{IP}": 1}


async def test_a_wrong_password_for_a_known_email_spends_a_real_verification_not_a_dummy(
        registered: Gatehouse) -> None:
    with pytest.raises(InvalidCredentials):
        await registered.sign_in(password="wrong password")

    assert registered.hasher.dummy_verifications == 0


async def test_unknown_email_and_wrong_password_give_the_same_answer(registered: Gatehouse) -> None:
    with pytest.raises(InvalidCredentials) as unknown:
        await registered.sign_in("nobody@example.com")
    with pytest.raises(InvalidCredentials) as wrong:
        await registered.sign_in(password="wrong password")

    assert type(unknown.value) is type(wrong.value)
    assert unknown.value.detail == wrong.value.detail


async def test_an_overlong_password_is_refused_with_a_dummy_verification(registered: Gatehouse) -> None:
    with pytest.raises(InvalidCredentials):
        await registered.sign_in(password="x" * (MAX_PASSWORD_LENGTH + 1))

    assert registered.hasher.dummy_verifications == 1
    assert registered.limiter.failures == {KEY: 1}


async def test_failures_are_counted_under_the_normalized_email(registered: Gatehouse) -> None:
    for spelling in ["ALICE@example.com", " alice@EXAMPLE.com"]:
        with pytest.raises(InvalidCredentials):
            await registered.sign_in(spelling, password="wrong password")

    assert registered.limiter.failures == {KEY: 2}


async def test_failures_without_a_client_address_are_counted_under_a_placeholder(registered: Gatehouse) -> None:
    with pytest.raises(InvalidCredentials):
        await registered.sign_in(password="wrong password", ip=None)

    assert registered.limiter.failures == {"alice@example.com|-": 1}


async def test_once_rate_limited_even_the_right_password_is_refused(registered: Gatehouse) -> None:
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            await registered.sign_in(password="wrong password")

    with pytest.raises(RateLimited) as caught:
        await registered.sign_in()

    assert caught.value.retry_after_seconds == 60
    assert registered.store.sessions == {}
    assert registered.notifications(NotificationKind.NEW_LOGIN) == []


async def test_unknown_emails_reach_the_rate_limit_too(registered: Gatehouse) -> None:
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            await registered.sign_in("nobody@example.com")

    with pytest.raises(RateLimited):
        await registered.sign_in("nobody@example.com")


async def test_a_rate_limited_attempt_spends_no_verification(registered: Gatehouse) -> None:
    registered.limiter.failures[f"nobody@example.com|{IP}"] = 5

    with pytest.raises(RateLimited):
        await registered.sign_in("nobody@example.com")

    assert registered.hasher.dummy_verifications == 0


async def test_the_rate_limit_is_per_email_and_client_address(registered: Gatehouse) -> None:
    registered.limiter.failures[KEY] = 5

    result = await registered.sign_in(ip="198.51.100.20")

    assert result.session_id in registered.store.sessions


async def test_a_successful_login_resets_the_failure_count(registered: Gatehouse) -> None:
    for _ in range(4):
        with pytest.raises(InvalidCredentials):
            await registered.sign_in(password="wrong password")

    await registered.sign_in()

    assert KEY not in registered.limiter.failures
    for _ in range(4):
        with pytest.raises(InvalidCredentials):
            await registered.sign_in(password="wrong password")
    assert (await registered.sign_in()).session_id in registered.store.sessions


async def test_a_login_rehashes_the_password_when_the_hasher_parameters_changed(registered: Gatehouse) -> None:
    registered.hasher.version = "v2"
    registered.clock.advance(days=1)

    await registered.sign_in()

    user = next(iter(registered.store.users.values()))
    assert user.password_hash == PasswordHash(f"fake$v2${PASSWORD}")
    assert (user.updated_at, user.credential_version) == (T0, 0)  # the same password: nothing else changes
    await registered.sign_in()  # and the upgraded hash still verifies


async def test_a_login_leaves_a_current_hash_untouched(registered: Gatehouse) -> None:
    registered.clock.advance(days=1)

    await registered.sign_in()

    user = next(iter(registered.store.users.values()))
    assert user.password_hash == PasswordHash(f"fake$v1${PASSWORD}")
    assert user.updated_at == T0


async def test_a_failed_login_never_rehashes(registered: Gatehouse) -> None:
    registered.hasher.version = "v2"

    with pytest.raises(InvalidCredentials):
        await registered.sign_in(password="wrong password")

    user = next(iter(registered.store.users.values()))
    assert user.password_hash == PasswordHash(f"fake$v1${PASSWORD}")


# -- a login that races a password change ----------------------------------------------------------------


async def change_password_meanwhile(registered: Gatehouse) -> None:
    """While the next login verifies the old password, the user's password is changed (and committed)."""
    user = next(iter(registered.store.users.values()))

    async def change() -> None:
        user.change_password_hash(PasswordHash("fake$v1$a brand new password"), registered.clock.now())

    registered.hasher.while_verifying = change


async def test_a_login_that_checked_the_old_password_before_a_change_starts_no_session(
        registered: Gatehouse) -> None:
    await change_password_meanwhile(registered)

    with pytest.raises(InvalidCredentials):
        await registered.sign_in()

    assert registered.store.sessions == {}
    assert registered.notifications(NotificationKind.NEW_LOGIN) == []
    assert registered.handed_to_delivery_of(NotificationKind.NEW_LOGIN) == []


async def test_a_pending_rehash_does_not_bring_the_old_password_back_after_a_change(registered: Gatehouse) -> None:
    registered.hasher.version = "v2"  # the login would upgrade the old hash
    await change_password_meanwhile(registered)

    with pytest.raises(InvalidCredentials):
        await registered.sign_in()

    user = next(iter(registered.store.users.values()))
    assert user.password_hash == PasswordHash("fake$v1$a brand new password")
    with pytest.raises(InvalidCredentials):
        await registered.sign_in()  # the old password stays refused


async def test_a_login_beyond_the_session_limit_ends_the_least_recently_used_sessions() -> None:
    gatehouse = Gatehouse(policy=SessionPolicy(max_live_sessions=3))
    await gatehouse.sign_up("alice@example.com")
    await gatehouse.sign_up("bob@example.com")
    bobs = await gatehouse.sign_in("bob@example.com")
    logins = []
    for _ in range(5):
        logins.append(await gatehouse.sign_in())
        gatehouse.clock.advance(minutes=1)

    live = [t for t in logins if gatehouse.session(t.session_id).revoked_at is None]
    assert live == logins[2:]  # the newest three
    for ended in logins[:2]:
        assert gatehouse.session(ended.session_id).revoked_reason == "session_limit"
        assert ended.session_id in gatehouse.activity.forgotten
    assert gatehouse.session(bobs.session_id).revoked_at is None  # another user's are not counted
    ended_events = [e for e in gatehouse.store.events if e.type is SecurityEventType.SESSION_ENDED]
    assert [(e.session_id, e.actor) for e in ended_events] == [(t.session_id, Actor.SYSTEM) for t in logins[:2]]
