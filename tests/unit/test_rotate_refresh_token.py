"""RotateRefreshToken over the fakes: rotation, reuse detection, the grace window, expiry."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest

from domain.errors import InvalidRefreshToken, InvalidToken
from domain.notifications import REUSE_MESSAGE, NotificationKind, NotificationStatus
from domain.session import SessionPolicy
from domain.tokens import MAX_REFRESH_TOKEN_LENGTH, IssuedTokens, TokenDigest
from tests.fakes import T0
from tests.unit.conftest import Gatehouse

GRACE = SessionPolicy(refresh_grace=timedelta(seconds=10))


async def logged_in(gatehouse: Gatehouse) -> IssuedTokens:
    await gatehouse.sign_up()
    return await gatehouse.sign_in()


def reuse_handed_to_delivery(gatehouse: Gatehouse) -> list[UUID]:
    return [h.notification.id for h in gatehouse.handed_to_delivery
            if h.notification.kind is NotificationKind.REFRESH_TOKEN_REUSE]


async def refresh(gatehouse: Gatehouse, token: str) -> IssuedTokens:
    return await gatehouse.container.rotate_refresh_token().execute(token)


# -- rotation -----------------------------------------------------------------------------------------


async def test_refreshing_rotates_the_refresh_token_and_keeps_the_session_id(gatehouse: Gatehouse) -> None:
    login = await logged_in(gatehouse)
    gatehouse.clock.advance(minutes=20)

    result = await refresh(gatehouse, login.refresh_token)

    assert result.refresh_token != login.refresh_token
    assert result.session_id == login.session_id
    assert gatehouse.claims(result.access_token).session_id == login.session_id
    session = gatehouse.session(login.session_id)
    assert session.current_token == TokenDigest.of(result.refresh_token)
    assert session.previous_token == TokenDigest.of(login.refresh_token)
    assert session.last_used_at == T0 + timedelta(minutes=20)


async def test_a_refresh_mints_a_fresh_access_token(gatehouse: Gatehouse) -> None:
    login = await logged_in(gatehouse)
    gatehouse.clock.advance(minutes=20)

    result = await refresh(gatehouse, login.refresh_token)

    claims = gatehouse.claims(result.access_token)
    assert result.access_token != login.access_token
    assert claims.issued_at == T0 + timedelta(minutes=20)
    assert claims.expires_at == T0 + timedelta(minutes=35)
    assert result.expires_in == 900
    assert [h.notification.kind for h in gatehouse.handed_to_delivery] == [NotificationKind.EMAIL_VERIFICATION,
                                                                           NotificationKind.NEW_LOGIN]  # none more


async def test_the_rotated_token_refreshes_in_turn(gatehouse: Gatehouse) -> None:
    login = await logged_in(gatehouse)

    second = await refresh(gatehouse, login.refresh_token)
    third = await refresh(gatehouse, second.refresh_token)

    assert third.session_id == login.session_id
    assert len({login.refresh_token, second.refresh_token, third.refresh_token}) == 3


async def test_an_access_token_minted_by_a_refresh_never_outlives_the_session() -> None:
    gatehouse = Gatehouse(policy=SessionPolicy(idle_timeout=timedelta(minutes=10)))
    login = await logged_in(gatehouse)
    gatehouse.clock.advance(minutes=5)

    result = await refresh(gatehouse, login.refresh_token)

    assert result.expires_in == 600
    assert gatehouse.claims(result.access_token).expires_at == T0 + timedelta(minutes=15)


@pytest.mark.parametrize("token", ["", "rt-unknown", "x" * (MAX_REFRESH_TOKEN_LENGTH + 1)])
async def test_an_empty_unknown_or_overlong_token_is_refused_without_side_effects(
        gatehouse: Gatehouse, token: str) -> None:
    login = await logged_in(gatehouse)
    before = len(gatehouse.notifications())

    with pytest.raises(InvalidRefreshToken):
        await refresh(gatehouse, token)

    assert gatehouse.session(login.session_id).revoked_at is None
    assert len(gatehouse.notifications()) == before


# -- reuse ------------------------------------------------------------------------------------------------


async def test_reusing_a_spent_refresh_token_revokes_the_session(gatehouse: Gatehouse) -> None:
    login = await logged_in(gatehouse)
    await refresh(gatehouse, login.refresh_token)
    gatehouse.clock.advance(seconds=30)

    with pytest.raises(InvalidRefreshToken):
        await refresh(gatehouse, login.refresh_token)

    session = gatehouse.session(login.session_id)
    assert session.revoked_at == T0 + timedelta(seconds=30)
    assert session.revoked_reason == "refresh_token_reuse"
    assert login.session_id in gatehouse.activity.forgotten


async def test_after_reuse_the_newest_refresh_token_of_the_session_stops_working(gatehouse: Gatehouse) -> None:
    login = await logged_in(gatehouse)
    winner = await refresh(gatehouse, login.refresh_token)
    with pytest.raises(InvalidRefreshToken):
        await refresh(gatehouse, login.refresh_token)

    with pytest.raises(InvalidRefreshToken):
        await refresh(gatehouse, winner.refresh_token)


async def test_after_reuse_the_sessions_access_tokens_stop_working(gatehouse: Gatehouse) -> None:
    login = await logged_in(gatehouse)
    winner = await refresh(gatehouse, login.refresh_token)
    with pytest.raises(InvalidRefreshToken):
        await refresh(gatehouse, login.refresh_token)

    for access_token in (login.access_token, winner.access_token):
        with pytest.raises(InvalidToken):
            await gatehouse.container.authenticate().execute(access_token)


async def test_reuse_queues_one_security_notification_named_on_the_error(gatehouse: Gatehouse) -> None:
    login = await logged_in(gatehouse)
    await refresh(gatehouse, login.refresh_token)

    with pytest.raises(InvalidRefreshToken):
        await refresh(gatehouse, login.refresh_token)

    [notification] = gatehouse.notifications(NotificationKind.REFRESH_TOKEN_REUSE)
    assert reuse_handed_to_delivery(gatehouse) == [notification.id]  # delivered after the 401
    assert notification.user_id == gatehouse.session(login.session_id).user_id
    assert notification.status is NotificationStatus.QUEUED
    assert notification.message == REUSE_MESSAGE


async def test_the_revocation_for_reuse_is_committed_although_the_request_fails(gatehouse: Gatehouse) -> None:
    login = await logged_in(gatehouse)
    await refresh(gatehouse, login.refresh_token)
    commits_before = gatehouse.commits

    with pytest.raises(InvalidRefreshToken):
        await refresh(gatehouse, login.refresh_token)

    assert gatehouse.commits == commits_before + 1


async def test_reusing_a_token_again_after_the_session_ended_sends_no_second_notification(
        gatehouse: Gatehouse) -> None:
    login = await logged_in(gatehouse)
    winner = await refresh(gatehouse, login.refresh_token)
    with pytest.raises(InvalidRefreshToken):
        await refresh(gatehouse, login.refresh_token)
    [first_notice] = reuse_handed_to_delivery(gatehouse)

    for token in (login.refresh_token, winner.refresh_token):
        with pytest.raises(InvalidRefreshToken):
            await refresh(gatehouse, token)
        assert reuse_handed_to_delivery(gatehouse) == [first_notice]

    assert len(gatehouse.notifications(NotificationKind.REFRESH_TOKEN_REUSE)) == 1


async def test_reuse_in_one_session_leaves_the_users_other_sessions_alone(gatehouse: Gatehouse) -> None:
    stolen = await logged_in(gatehouse)
    other = await gatehouse.sign_in()
    await refresh(gatehouse, stolen.refresh_token)

    with pytest.raises(InvalidRefreshToken):
        await refresh(gatehouse, stolen.refresh_token)

    assert gatehouse.session(other.session_id).revoked_at is None
    assert (await refresh(gatehouse, other.refresh_token)).session_id == other.session_id


async def test_without_a_grace_window_an_immediate_second_use_is_reuse(gatehouse: Gatehouse) -> None:
    login = await logged_in(gatehouse)
    await refresh(gatehouse, login.refresh_token)

    with pytest.raises(InvalidRefreshToken):
        await refresh(gatehouse, login.refresh_token)  # same instant, as from a second tab

    assert gatehouse.session(login.session_id).revoked_reason == "refresh_token_reuse"


# -- the grace window ---------------------------------------------------------------------------------------


async def test_a_retry_inside_the_grace_window_gets_the_same_successor() -> None:
    gatehouse = Gatehouse(policy=GRACE, derive_successors=True)
    login = await logged_in(gatehouse)
    first = await refresh(gatehouse, login.refresh_token)
    gatehouse.clock.advance(seconds=5)

    retry = await refresh(gatehouse, login.refresh_token)

    assert retry.refresh_token == first.refresh_token
    assert retry.session_id == login.session_id
    assert retry.access_token != first.access_token
    assert gatehouse.claims(retry.access_token).issued_at == T0 + timedelta(seconds=5)
    session = gatehouse.session(login.session_id)
    assert session.revoked_at is None
    assert session.current_token == TokenDigest.of(first.refresh_token)
    assert session.last_used_at == T0 + timedelta(seconds=5)
    assert gatehouse.notifications(NotificationKind.REFRESH_TOKEN_REUSE) == []


async def test_after_a_grace_retry_both_tabs_continue_on_one_branch() -> None:
    gatehouse = Gatehouse(policy=GRACE, derive_successors=True)
    login = await logged_in(gatehouse)
    first = await refresh(gatehouse, login.refresh_token)
    retry = await refresh(gatehouse, login.refresh_token)
    gatehouse.clock.advance(minutes=1)

    following = await refresh(gatehouse, retry.refresh_token)

    assert following.session_id == login.session_id
    assert first.refresh_token == retry.refresh_token


async def test_a_retry_after_the_grace_window_is_reuse() -> None:
    gatehouse = Gatehouse(policy=GRACE, derive_successors=True)
    login = await logged_in(gatehouse)
    await refresh(gatehouse, login.refresh_token)
    gatehouse.clock.advance(seconds=11)

    with pytest.raises(InvalidRefreshToken):
        await refresh(gatehouse, login.refresh_token)

    assert gatehouse.session(login.session_id).revoked_reason == "refresh_token_reuse"
    [notification] = gatehouse.notifications(NotificationKind.REFRESH_TOKEN_REUSE)
    assert reuse_handed_to_delivery(gatehouse) == [notification.id]  # delivered after the 401


async def test_a_token_older_than_the_previous_one_is_reuse_inside_the_grace_window() -> None:
    gatehouse = Gatehouse(policy=GRACE, derive_successors=True)
    login = await logged_in(gatehouse)
    second = await refresh(gatehouse, login.refresh_token)
    await refresh(gatehouse, second.refresh_token)

    with pytest.raises(InvalidRefreshToken):
        await refresh(gatehouse, login.refresh_token)

    assert gatehouse.session(login.session_id).revoked_reason == "refresh_token_reuse"


async def test_a_grace_retry_whose_successor_cannot_be_derived_again_is_refused_without_ending_the_session(
        ) -> None:
    gatehouse = Gatehouse(policy=GRACE, derive_successors=False)
    login = await logged_in(gatehouse)
    first = await refresh(gatehouse, login.refresh_token)

    with pytest.raises(InvalidRefreshToken):
        await refresh(gatehouse, login.refresh_token)

    assert gatehouse.session(login.session_id).revoked_at is None
    assert gatehouse.notifications(NotificationKind.REFRESH_TOKEN_REUSE) == []
    assert (await refresh(gatehouse, first.refresh_token)).session_id == login.session_id


# -- expiry ---------------------------------------------------------------------------------------------------


async def test_a_session_idle_for_the_idle_timeout_refuses_refresh(gatehouse: Gatehouse) -> None:
    login = await logged_in(gatehouse)
    gatehouse.clock.advance(days=7)

    with pytest.raises(InvalidRefreshToken):
        await refresh(gatehouse, login.refresh_token)

    assert reuse_handed_to_delivery(gatehouse) == []
    assert gatehouse.notifications(NotificationKind.REFRESH_TOKEN_REUSE) == []


async def test_a_session_used_just_before_the_idle_timeout_still_refreshes(gatehouse: Gatehouse) -> None:
    login = await logged_in(gatehouse)
    gatehouse.clock.advance(days=7, seconds=-1)

    result = await refresh(gatehouse, login.refresh_token)

    assert result.session_id == login.session_id


async def test_a_session_past_its_absolute_lifetime_refuses_refresh_however_often_it_was_used(
        gatehouse: Gatehouse) -> None:
    login = await logged_in(gatehouse)
    token = login.refresh_token
    for _ in range(4):
        gatehouse.clock.advance(days=6)
        token = (await refresh(gatehouse, token)).refresh_token
    gatehouse.clock.advance(days=6)  # day 30: used six days ago, so only the absolute lifetime ends it

    with pytest.raises(InvalidRefreshToken):
        await refresh(gatehouse, token)

    assert gatehouse.notifications(NotificationKind.REFRESH_TOKEN_REUSE) == []


async def test_a_spent_token_of_an_expired_session_is_refused_without_a_reuse_alarm(gatehouse: Gatehouse) -> None:
    login = await logged_in(gatehouse)
    await refresh(gatehouse, login.refresh_token)
    gatehouse.clock.advance(days=8)

    with pytest.raises(InvalidRefreshToken):
        await refresh(gatehouse, login.refresh_token)

    assert gatehouse.notifications(NotificationKind.REFRESH_TOKEN_REUSE) == []


async def test_a_token_of_a_logged_out_session_is_refused(gatehouse: Gatehouse) -> None:
    login = await logged_in(gatehouse)
    await gatehouse.container.log_out().execute(login.refresh_token)

    with pytest.raises(InvalidRefreshToken):
        await refresh(gatehouse, login.refresh_token)

    assert gatehouse.session(login.session_id).revoked_reason == "logout"
