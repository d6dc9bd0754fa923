"""Settings: combinations that would break a guarantee are refused at start-up."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from tests.conftest import make_settings


def test_a_lease_too_short_to_outlast_a_delivery_is_refused(tmp_path: Path) -> None:
    # A delivery may start ~1 s into its lease (the hand-off window) and take the whole SMTP timeout.
    with pytest.raises(ValidationError, match="NOTIFY_LEASE_SECONDS"):
        make_settings(tmp_path, notify_lease_seconds=11, smtp_timeout_seconds=10)
    assert make_settings(tmp_path, notify_lease_seconds=12, smtp_timeout_seconds=10).notify_lease_seconds == 12


def test_the_account_cache_can_be_turned_off_and_is_bounded(tmp_path: Path) -> None:
    assert make_settings(tmp_path, profile_cache_seconds=0).profile_cache_seconds == 0
    with pytest.raises(ValidationError):
        make_settings(tmp_path, profile_cache_seconds=61)


@pytest.mark.parametrize(("setting", "value", "named"), [
    ("jwt_secret", "x" * 31, "GATEHOUSE_JWT_SECRET"),
    ("jwt_previous_secrets", ["y" * 32, "z"], "GATEHOUSE_JWT_PREVIOUS_SECRETS"),
    ("refresh_token_secret", "r", "GATEHOUSE_REFRESH_TOKEN_SECRET"),
])
def test_every_secret_that_keys_an_hmac_is_at_least_32_bytes(tmp_path: Path, setting: str, value: object,
                                                             named: str) -> None:
    with pytest.raises(ValidationError, match=named):
        make_settings(tmp_path, "", jwt_algorithm="HS256", **{setting: value})
    long_enough = ["s" * 32] if isinstance(value, list) else "s" * 32
    assert make_settings(tmp_path, "", jwt_algorithm="HS256", **{setting: long_enough}) is not None
