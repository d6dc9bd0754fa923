"""Settings: combinations that would break a guarantee are refused at start-up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from tests.conftest import make_settings
from tests.live_server import free_port


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


def test_serve_on_a_non_loopback_address_without_a_signing_key_refuses_to_start(tmp_path: Path) -> None:
    gatehouse = Path(sys.executable).parent / "gatehouse"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEHOUSE_")}
    refused = subprocess.run([str(gatehouse), "serve", "--host", "0.0.0.0", "--port", str(free_port())],  # noqa: S104
                             env={**env, "GATEHOUSE_DATA_DIR": str(tmp_path / "data")}, cwd=tmp_path,
                             capture_output=True, text=True, timeout=60, check=False)
    assert refused.returncode == 2
    assert "GATEHOUSE_JWT_PRIVATE_KEY" in refused.stderr
    assert "GATEHOUSE_DEV_SIGNING_KEY=true" in refused.stderr
    assert not (tmp_path / "data").exists()  # refused before anything was made
