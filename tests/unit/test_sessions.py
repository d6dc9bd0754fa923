"""Ending sessions: logout (any token of the session), logout everywhere, listing and ending one session."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest

from domain.errors import InvalidToken, NotFound
from domain.session import SessionPolicy
from domain.tokens import MAX_TOKEN_LENGTH, IssuedTokens
from tests.fakes import T0
from tests.unit.conftest import Gatehouse


async def logged_in(gatehouse: Gatehouse, email: str = "alice@example.com") -> IssuedTokens:
    if not any(str(u.email) == email for u in gatehouse.store.users.values()):
        await gatehouse.sign_up(email)
    return await gatehouse.sign_in(email)


def revoked(gatehouse: Gatehouse, result: IssuedTokens) -> bool:
    return gatehouse.session(result.session_id).revoked_at is not None


# -- logout ------------------------------------------------------------------------------------------------


async def test_logging_out_with_the_current_refresh_token_ends_that_session(gatehouse: Gatehouse) -> None:
    login = await logged_in(gatehouse)
    gatehouse.clock.advance(minutes=3)

    await gatehouse.container.log_out().execute(login.refresh_token)

    session = gatehouse.session(login.session_id)
    assert session.revoked_at == T0 + timedelta(minutes=3)
    assert session.revoked_reason == "logout"
    assert gatehouse.activity.forgotten == [login.session_id]


async def test_logging_out_with_a_spent_refresh_token_ends_that_session(gatehouse: Gatehouse) -> None:
    login = await logged_in(gatehouse)
    newer = await gatehouse.container.rotate_refresh_token().execute(login.refresh_token)

    await gatehouse.container.log_out().execute(login.refresh_token)

    assert revoked(gatehouse, login)
    assert gatehouse.session(login.session_id).revoked_reason == "logout"
    with pytest.raises(InvalidToken):
        await gatehouse.container.authenticate().execute(newer.access_token)


async def test_logging_out_with_an_access_token_ends_its_session(gatehouse: Gatehouse) -> None:
    login = await logged_in(gatehouse)

    await gatehouse.container.log_out().execute(login.access_token)

    assert revoked(gatehouse, login)
    with pytest.raises(InvalidToken):
        await gatehouse.principal(login)


async def test_logging_out_with_an_expired_access_token_ends_nothing(gatehouse: Gatehouse) -> None:
    login = await logged_in(gatehouse)
    gatehouse.clock.advance(hours=1)

    await gatehouse.container.log_out().execute(login.access_token)

    assert not revoked(gatehouse, login)


@pytest.mark.parametrize("token", ["", "rt-unknown", "h.forged.s", "x" * (MAX_TOKEN_LENGTH + 1)])
async def test_logging_out_with_an_unknown_token_is_no_error_and_changes_nothing(
        gatehouse: Gatehouse, token: str) -> None:
    login = await logged_in(gatehouse)

    await gatehouse.container.log_out().execute(token)

    assert not revoked(gatehouse, login)
    assert gatehouse.activity.forgotten == []


async def test_logging_out_twice_is_no_error(gatehouse: Gatehouse) -> None:
    login = await logged_in(gatehouse)
    await gatehouse.container.log_out().execute(login.refresh_token)
    gatehouse.clock.advance(minutes=1)

    await gatehouse.container.log_out().execute(login.refresh_token)

    assert gatehouse.session(login.session_id).revoked_at == T0
    assert gatehouse.activity.forgotten == [login.session_id]


async def test_logging_out_leaves_the_users_other_sessions_alone(gatehouse: Gatehouse) -> None:
    first = await logged_in(gatehouse)
    second = await logged_in(gatehouse)

    await gatehouse.container.log_out().execute(first.refresh_token)

    assert revoked(gatehouse, first)
    assert not revoked(gatehouse, second)
    assert (await gatehouse.principal(second)).session_id == second.session_id


# -- logout everywhere --------------------------------------------------------------------------------------


async def test_logging_out_everywhere_ends_every_session_of_the_user_the_callers_included(
        gatehouse: Gatehouse) -> None:
    caller = await logged_in(gatehouse)
    others = [await logged_in(gatehouse) for _ in range(2)]

    await gatehouse.container.log_out_everywhere().execute(await gatehouse.principal(caller))

    for result in (caller, *others):
        assert revoked(gatehouse, result)
        assert gatehouse.session(result.session_id).revoked_reason == "logout_all"
        assert result.session_id in gatehouse.activity.forgotten
    with pytest.raises(InvalidToken):
        await gatehouse.principal(caller)


async def test_logging_out_everywhere_leaves_other_users_sessions_alone(gatehouse: Gatehouse) -> None:
    alice = await logged_in(gatehouse, "alice@example.com")
    bob = await logged_in(gatehouse, "bob@example.com")

    await gatehouse.container.log_out_everywhere().execute(await gatehouse.principal(alice))

    assert not revoked(gatehouse, bob)
    assert bob.session_id not in gatehouse.activity.forgotten


# -- listing sessions -----------------------------------------------------------------------------------------


async def test_listing_sessions_marks_the_callers_session_as_current(gatehouse: Gatehouse) -> None:
    caller = await logged_in(gatehouse)
    other = await logged_in(gatehouse)

    views = await gatehouse.container.list_sessions().execute(await gatehouse.principal(caller))

    assert {v.id: v.current for v in views} == {caller.session_id: True, other.session_id: False}


async def test_listing_sessions_shows_only_active_ones(gatehouse: Gatehouse) -> None:
    idle = await logged_in(gatehouse)
    gatehouse.clock.advance(days=7)  # `idle` has now expired
    caller = await logged_in(gatehouse)
    ended = await logged_in(gatehouse)
    await gatehouse.container.log_out().execute(ended.refresh_token)

    views = await gatehouse.container.list_sessions().execute(await gatehouse.principal(caller))

    assert [v.id for v in views] == [caller.session_id]
    assert idle.session_id in gatehouse.store.sessions


async def test_listing_sessions_shows_only_the_callers_own(gatehouse: Gatehouse) -> None:
    alice = await logged_in(gatehouse, "alice@example.com")
    await logged_in(gatehouse, "bob@example.com")

    views = await gatehouse.container.list_sessions().execute(await gatehouse.principal(alice))

    assert [v.id for v in views] == [alice.session_id]


async def test_a_listed_session_carries_its_times_and_client(gatehouse: Gatehouse) -> None:
    caller = await logged_in(gatehouse)
    gatehouse.clock.advance(days=1)
    refreshed = await gatehouse.container.rotate_refresh_token().execute(caller.refresh_token)

    [view] = await gatehouse.container.list_sessions().execute(await gatehouse.principal(refreshed))

    assert view.created_at == T0
    assert view.last_used_at == T0 + timedelta(days=1)
    assert view.expires_at == T0 + timedelta(days=8)
    assert (view.ip, view.user_agent) == ("203.0.113.7", "pytest-agent/1.0")


async def test_a_listed_session_expires_at_the_earlier_of_absolute_and_idle_expiry() -> None:
    gatehouse = Gatehouse(policy=SessionPolicy(absolute_lifetime=timedelta(days=2), idle_timeout=timedelta(days=7)))
    caller = await logged_in(gatehouse)

    [view] = await gatehouse.container.list_sessions().execute(await gatehouse.principal(caller))

    assert view.expires_at == T0 + timedelta(days=2)


# -- ending one session ----------------------------------------------------------------------------------------


async def test_ending_one_of_my_sessions_revokes_it_and_nothing_else(gatehouse: Gatehouse) -> None:
    caller = await logged_in(gatehouse)
    other = await logged_in(gatehouse)

    await gatehouse.container.end_session().execute(await gatehouse.principal(caller), other.session_id)

    assert revoked(gatehouse, other)
    assert gatehouse.session(other.session_id).revoked_reason == "ended_by_user"
    assert not revoked(gatehouse, caller)
    assert gatehouse.activity.forgotten == [other.session_id]


async def test_ending_another_users_session_is_not_found_and_leaves_it_running(gatehouse: Gatehouse) -> None:
    alice = await logged_in(gatehouse, "alice@example.com")
    bob = await logged_in(gatehouse, "bob@example.com")

    with pytest.raises(NotFound):
        await gatehouse.container.end_session().execute(await gatehouse.principal(alice), bob.session_id)

    assert not revoked(gatehouse, bob)
    assert gatehouse.activity.forgotten == []


async def test_ending_a_session_that_does_not_exist_is_not_found(gatehouse: Gatehouse) -> None:
    alice = await logged_in(gatehouse)

    with pytest.raises(NotFound):
        await gatehouse.container.end_session().execute(await gatehouse.principal(alice), UUID(int=999_999))


async def test_another_users_session_and_a_missing_one_get_the_same_answer(gatehouse: Gatehouse) -> None:
    alice = await logged_in(gatehouse, "alice@example.com")
    bob = await logged_in(gatehouse, "bob@example.com")
    principal = await gatehouse.principal(alice)

    with pytest.raises(NotFound) as foreign:
        await gatehouse.container.end_session().execute(principal, bob.session_id)
    with pytest.raises(NotFound) as missing:
        await gatehouse.container.end_session().execute(principal, UUID(int=999_999))

    assert foreign.value.detail == missing.value.detail


async def test_ending_a_session_that_already_ended_is_not_found(gatehouse: Gatehouse) -> None:
    caller = await logged_in(gatehouse)
    other = await logged_in(gatehouse)
    await gatehouse.container.log_out().execute(other.refresh_token)

    with pytest.raises(NotFound):
        await gatehouse.container.end_session().execute(await gatehouse.principal(caller), other.session_id)

    assert gatehouse.session(other.session_id).revoked_reason == "logout"


async def test_ending_my_own_current_session_ends_my_access(gatehouse: Gatehouse) -> None:
    caller = await logged_in(gatehouse)

    await gatehouse.container.end_session().execute(await gatehouse.principal(caller), caller.session_id)

    with pytest.raises(InvalidToken):
        await gatehouse.principal(caller)
