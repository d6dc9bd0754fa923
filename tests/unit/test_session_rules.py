"""Session rules with a fake clock: expiry, judging a token that could not be spent (reuse, the grace
window), the policy. What rotation and revocation write is the SQL's (tests/integration/test_statement_parity.py)."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from uuid import UUID

import pytest

from domain.session import Presented, Session, SessionPolicy
from domain.tokens import TokenDigest
from tests.fakes import T0, FakeClock

FIRST = TokenDigest.of("rt-first")
SECOND = TokenDigest.of("rt-second")
THIRD = TokenDigest.of("rt-third")
STRANGER = TokenDigest.of("rt-stranger")

DEFAULT = SessionPolicy()
GRACE_10S = SessionPolicy(refresh_grace=timedelta(seconds=10))


def start(clock: FakeClock, policy: SessionPolicy = DEFAULT, token: TokenDigest = FIRST) -> Session:
    return Session.start(id=UUID(int=1), user_id=UUID(int=2), token=token, now=clock.now(), policy=policy,
                         user_agent="agent", ip="198.51.100.1")


def rotated(session: Session, successor: TokenDigest, now: datetime) -> Session:
    """The session as a rotation leaves it (statements.ROTATION writes this; the parity tests check it)."""
    return dataclasses.replace(session, previous_token=session.current_token, current_token=successor,
                               rotated_at=now, last_used_at=now)


def revoked(session: Session, now: datetime) -> Session:
    return dataclasses.replace(session, revoked_at=now, revoked_reason="logout")


def judge(session: Session, presented: TokenDigest, now: datetime, policy: SessionPolicy,
          successor: TokenDigest | None = None) -> Presented:
    """`successor`: what `presented` derives; by default the session's current token (a true retry)."""
    return session.judge(presented, successor or session.current_token, now, policy)


# -- starting and expiry ----------------------------------------------------------------------------


def test_a_new_session_is_stamped_with_the_login_time_and_ends_at_its_idle_expiry(clock: FakeClock) -> None:
    session = start(clock)

    assert session.created_at == T0
    assert session.last_used_at == T0
    assert session.absolute_expires_at == T0 + timedelta(days=30)
    assert session.expires_at(DEFAULT) == T0 + timedelta(days=7)
    assert session.current_token == FIRST
    assert session.previous_token is None
    assert session.revoked_at is None
    assert (session.user_agent, session.ip) == ("agent", "198.51.100.1")


def test_a_session_is_active_until_the_idle_timeout_and_inactive_from_that_instant(clock: FakeClock) -> None:
    session = start(clock)

    clock.advance(days=7, seconds=-1)
    assert session.is_active(clock.now(), DEFAULT)
    clock.advance(seconds=1)
    assert not session.is_active(clock.now(), DEFAULT)


def test_using_a_session_pushes_its_idle_expiry_forward(clock: FakeClock) -> None:
    session = start(clock)
    clock.advance(days=6)

    session = rotated(session, SECOND, clock.now())

    assert session.expires_at(DEFAULT) == T0 + timedelta(days=13)
    clock.advance(days=2)
    assert session.is_active(clock.now(), DEFAULT)


def test_the_absolute_lifetime_ends_a_session_that_is_used_every_day(clock: FakeClock) -> None:
    session = start(clock)
    tokens = [TokenDigest.of(f"rt-{n}") for n in range(40)]
    for day in range(29):
        clock.advance(days=1)
        session = rotated(session, tokens[day], clock.now())
        assert session.is_active(clock.now(), DEFAULT), f"day {day + 1}"

    clock.advance(days=1)  # day 30: last used a day ago, but the absolute lifetime is over

    assert not session.is_active(clock.now(), DEFAULT)


def test_expires_at_is_the_absolute_expiry_when_that_comes_before_the_idle_expiry(clock: FakeClock) -> None:
    session = start(clock)
    clock.advance(days=28)
    session = rotated(session, SECOND, clock.now())

    # idle expiry would be day 35; the absolute one is day 30
    assert session.expires_at(DEFAULT) == T0 + timedelta(days=30)


def test_expires_at_is_the_idle_expiry_when_that_comes_first(clock: FakeClock) -> None:
    session = start(clock)
    clock.advance(days=10)
    session = rotated(session, SECOND, clock.now())

    assert session.expires_at(DEFAULT) == T0 + timedelta(days=17)


# -- judging a presented refresh token --------------------------------------------------------------


def test_the_current_token_of_an_active_session_is_judged_current(clock: FakeClock) -> None:
    session = start(clock)
    clock.advance(days=3)

    assert judge(session, FIRST, clock.now(), DEFAULT) is Presented.CURRENT


def test_the_previous_token_is_reuse_when_there_is_no_grace_window(clock: FakeClock) -> None:
    session = start(clock)
    session = rotated(session, SECOND, clock.now())

    # not even a microsecond later
    assert judge(session, FIRST, clock.now(), DEFAULT) is Presented.REUSED


def test_the_previous_token_inside_the_grace_window_is_a_retry(clock: FakeClock) -> None:
    session = start(clock, GRACE_10S)
    clock.advance(minutes=5)
    session = rotated(session, SECOND, clock.now())
    clock.advance(seconds=10)

    assert judge(session, FIRST, clock.now(), GRACE_10S) is Presented.GRACE_RETRY


def test_the_previous_token_after_the_grace_window_is_reuse(clock: FakeClock) -> None:
    session = start(clock, GRACE_10S)
    session = rotated(session, SECOND, clock.now())
    clock.advance(seconds=10, microseconds=1)

    assert judge(session, FIRST, clock.now(), GRACE_10S) is Presented.REUSED


def test_a_token_older_than_the_previous_one_is_reuse_even_inside_the_grace_window(clock: FakeClock) -> None:
    session = start(clock, GRACE_10S)
    session = rotated(session, SECOND, clock.now())
    clock.advance(seconds=1)
    session = rotated(session, THIRD, clock.now())
    clock.advance(seconds=1)

    assert judge(session, FIRST, clock.now(), GRACE_10S) is Presented.REUSED
    assert judge(session, SECOND, clock.now(), GRACE_10S) is Presented.GRACE_RETRY
    assert judge(session, THIRD, clock.now(), GRACE_10S) is Presented.CURRENT


def test_the_previous_token_inside_the_grace_window_is_refused_when_the_session_moved_on_differently(
        clock: FakeClock) -> None:
    session = start(clock, GRACE_10S)
    session = rotated(session, SECOND, clock.now())

    # the successor FIRST derives now is not SECOND (the successor key changed): no retry, and no reuse
    assert judge(session, FIRST, clock.now(), GRACE_10S, successor=THIRD) is Presented.OTHER_SUCCESSOR


def test_a_token_that_was_never_current_in_this_session_is_not_a_grace_retry(clock: FakeClock) -> None:
    session = start(clock, GRACE_10S)
    session = rotated(session, SECOND, clock.now())

    assert judge(session, STRANGER, clock.now(), GRACE_10S) is Presented.REUSED


def test_any_token_of_a_revoked_session_is_judged_inactive(clock: FakeClock) -> None:
    session = start(clock, GRACE_10S)
    session = rotated(session, SECOND, clock.now())
    session = revoked(session, clock.now())

    assert judge(session, SECOND, clock.now(), GRACE_10S) is Presented.INACTIVE
    assert judge(session, FIRST, clock.now(), GRACE_10S) is Presented.INACTIVE


def test_any_token_of_an_idle_expired_session_is_judged_inactive(clock: FakeClock) -> None:
    session = start(clock)
    session = rotated(session, SECOND, clock.now())
    clock.advance(days=7)

    assert judge(session, SECOND, clock.now(), DEFAULT) is Presented.INACTIVE
    assert judge(session, FIRST, clock.now(), DEFAULT) is Presented.INACTIVE


def test_the_current_token_of_a_session_past_its_absolute_lifetime_is_judged_inactive(clock: FakeClock) -> None:
    policy = SessionPolicy(absolute_lifetime=timedelta(hours=1), idle_timeout=timedelta(days=1))
    session = start(clock, policy)
    clock.advance(hours=1)

    assert judge(session, FIRST, clock.now(), policy) is Presented.INACTIVE


# -- the policy ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["absolute_lifetime", "idle_timeout", "access_token_ttl"])
@pytest.mark.parametrize("value", [timedelta(0), timedelta(seconds=-1)])
def test_a_policy_refuses_lifetimes_that_are_not_positive(field: str, value: timedelta) -> None:
    lifetimes: dict[str, timedelta] = {field: value}
    with pytest.raises(ValueError, match="positive"):
        SessionPolicy(**lifetimes)  # type: ignore[arg-type]  # every key named is a timedelta field


def test_a_policy_allows_at_least_one_session() -> None:
    with pytest.raises(ValueError, match="at least one session"):
        SessionPolicy(max_live_sessions=0)


def test_a_policy_refuses_a_negative_grace_window() -> None:
    with pytest.raises(ValueError, match="grace"):
        SessionPolicy(refresh_grace=timedelta(seconds=-1))


def test_a_policy_has_the_documented_defaults() -> None:
    assert DEFAULT.absolute_lifetime == timedelta(days=30)
    assert DEFAULT.idle_timeout == timedelta(days=7)
    assert DEFAULT.refresh_grace == timedelta(0)
    assert DEFAULT.access_token_ttl == timedelta(minutes=15)


def test_the_idle_cutoff_lies_one_idle_timeout_in_the_past() -> None:
    assert DEFAULT.idle_cutoff(T0) == T0 - timedelta(days=7)


def test_an_access_token_lives_its_full_ttl_when_the_session_outlives_it() -> None:
    assert DEFAULT.access_token_expiry(T0, T0 + timedelta(days=1)) == T0 + timedelta(minutes=15)


def test_an_access_token_never_outlives_its_session() -> None:
    session_end = T0 + timedelta(minutes=4)

    assert DEFAULT.access_token_expiry(T0, session_end) == session_end
