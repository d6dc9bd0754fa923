"""What login attempts are counted against: an IPv6 client by its /64, an IPv4 client by its address."""

from __future__ import annotations

import pytest

from domain.rate_limits import rate_limit_address


@pytest.mark.parametrize(("ip", "counted_as"), [
    ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
    ("::ffff:198.51.100.7", "198.51.100.7"),
    ("198.51.100.7", "198.51.100.7"),
    (None, "-"),
    ("", "-"),
    ("not-an-address", "not-an-address"),
])
def test_the_address_a_login_attempt_counts_against(ip: str | None, counted_as: str) -> None:
    assert rate_limit_address(ip) == counted_as


def test_every_address_of_one_ipv6_64_shares_one_count_and_the_next_64_does_not() -> None:
    assert len({rate_limit_address(f"2001:db8:0:7::{n:x}") for n in range(100)}) == 1
    assert rate_limit_address("2001:db8:0:8::1") != rate_limit_address("2001:db8:0:7::1")
