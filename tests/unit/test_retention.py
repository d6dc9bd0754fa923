"""The retention run: every kind in order, in batches until one comes back short, yielding to another
worker; and the policy's checks."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from application.purge_expired_records import PurgeExpiredRecords
from domain.retention import Purgeable, RetentionPolicy
from infrastructure.settings import Settings
from tests.fakes import T0, FakeClock


class ScriptedRecords:
    """Answers each purge call from a script of counts per kind (None: another worker holds the lock)."""

    def __init__(self, script: dict[Purgeable, list[int | None]]) -> None:
        self.script = script
        self.calls: list[tuple[Purgeable, datetime, int]] = []

    async def purge(self, what: Purgeable, before: datetime, limit: int) -> int | None:
        self.calls.append((what, before, limit))
        answers = self.script.get(what, [])
        return answers.pop(0) if answers else 0


def _policy(batch: int = 10) -> RetentionPolicy:
    return RetentionPolicy(periods={kind: timedelta(days=i + 1) for i, kind in enumerate(Purgeable)},
                           batch_size=batch)


async def test_a_run_takes_every_kind_in_order_in_batches_until_one_is_short() -> None:
    records = ScriptedRecords({Purgeable.TOKEN_HISTORY: [10, 10, 3], Purgeable.SECURITY_EVENTS: [4]})
    report = await PurgeExpiredRecords(records, FakeClock(T0), _policy(), pause_seconds=0).execute()

    assert report.deleted == {Purgeable.TOKEN_HISTORY: 23, Purgeable.SESSIONS: 0, Purgeable.NOTIFICATIONS: 0,
                              Purgeable.ACCOUNT_TOKENS: 0, Purgeable.SECURITY_EVENTS: 4}
    assert not report.yielded
    assert [what for what, _, _ in records.calls] == [Purgeable.TOKEN_HISTORY] * 3 + list(Purgeable)[1:]
    assert {(what, before) for what, before, _ in records.calls} == {
        (kind, T0 - timedelta(days=i + 1)) for i, kind in enumerate(Purgeable)}
    assert {limit for _, _, limit in records.calls} == {10}


async def test_a_run_that_finds_another_worker_purging_stops_there() -> None:
    records = ScriptedRecords({Purgeable.SESSIONS: [10, None]})
    report = await PurgeExpiredRecords(records, FakeClock(T0), _policy(), pause_seconds=0).execute()

    assert report.yielded
    assert report.deleted == {Purgeable.TOKEN_HISTORY: 0, Purgeable.SESSIONS: 10}
    assert records.calls[-1][0] is Purgeable.SESSIONS


def test_a_spent_token_is_remembered_as_long_as_its_session_could_live() -> None:
    """The contract: presenting any spent token is reuse. So the service's history period is the absolute
    session lifetime, whatever it is set to."""
    assert RetentionPolicy().periods[Purgeable.TOKEN_HISTORY] == timedelta(days=30)
    for lifetime in (timedelta(days=30), timedelta(days=90), timedelta(minutes=5)):
        settings = Settings(_env_file=None, session_absolute_lifetime_seconds=int(lifetime.total_seconds()))
        assert settings.retention_policy.periods[Purgeable.TOKEN_HISTORY] == max(lifetime, timedelta(hours=1))
    assert RetentionPolicy().periods[Purgeable.SECURITY_EVENTS] == max(RetentionPolicy().periods.values())


@pytest.mark.parametrize(("periods", "batch", "message"), [
    ({Purgeable.SESSIONS: timedelta(days=1)}, 10, "a retention period is needed for each kind"),
    ({kind: timedelta(0) for kind in Purgeable}, 10, "must be positive"),
    ({kind: timedelta(minutes=30) for kind in Purgeable}, 10, "at least an hour"),
    ({kind: timedelta(days=1) for kind in Purgeable}, 0, "batch size"),
])
def test_a_policy_that_would_break_a_rule_is_refused(periods: dict[Purgeable, timedelta], batch: int,
                                                     message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RetentionPolicy(periods=periods, batch_size=batch)
